package dialplan

import (
	"context"
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Conference limits.
const (
	maxRoomName      = 64
	maxConfMembers   = 500
	maxPIN           = 16
	conferenceFields = "pin, max, moderator, muted, gain, record"
	maxConfGain      = 4
)

// Why call:conference returned without error (the reason after nil).
const (
	ConfWrongPIN = "wrong-pin" // three wrong PINs
	ConfFull     = "full"      // the room holds max members
	ConfLocked   = "locked"    // a moderator locked the room
	ConfKicked   = "kicked"    // removed from the CLI
)

// ConferenceOptions configures call:conference.
type ConferenceOptions struct {
	PIN       string // digits the caller must enter; "" for none
	Max       int    // most members; 0 for the session's default
	Moderator bool   // may lock the room (*5)
	Muted     bool   // joins muted (*6 unmutes)
	// Gain scales what the caller says in the mix (1 unchanged, up to 4);
	// 0 means 1.
	Gain float64
	// Record records the room's mix (from when the first member with
	// Record joins until the room closes); the caller's CDR names the file.
	Record bool
}

// Conferencer is implemented by sessions that can put the caller into a
// conference room.
type Conferencer interface {
	// Conference answers the call if needed and keeps the caller in room
	// until they hang up (the error is then the context's) or are kicked.
	// ok is false with a reason (ConfWrongPIN, ConfFull, ConfLocked,
	// ConfKicked) when the caller was not let in or was removed.
	Conference(ctx context.Context, room string, o ConferenceOptions) (ok bool, reason string, err error)
}

// call:conference(room, {pin=, max=, moderator=, muted=, gain=, record=}) -> true | nil, reason
func luaConference(L *lua.LState) int {
	r := self(L, "conference")
	room := argString(L, 2, "conference", "room")
	if err := CheckRoomName(room); err != nil {
		L.RaiseError("conference: %v", err)
		return 0
	}
	o := conferenceOptions(L, 3)
	c, ok := r.sess.(Conferencer)
	if !ok {
		L.RaiseError("conference: %v", ErrUnsupported)
		return 0
	}
	var (
		in     bool
		reason string
	)
	r.block(L, "conference", func(ctx context.Context) error {
		var err error
		in, reason, err = c.Conference(ctx, room, o)
		return err
	})
	return pushOutcome(L, in, reason)
}

func conferenceOptions(L *lua.LState, n int) ConferenceOptions {
	var o ConferenceOptions
	eachOption(L, optTable(L, n, "conference"), "conference", conferenceFields, func(key string, v lua.LValue) bool {
		switch key {
		case "pin":
			s, isStr := v.(lua.LString)
			if num, isNum := v.(lua.LNumber); isNum {
				if k, whole := integer(num); whole && k >= 0 {
					s, isStr = lua.LString(num.String()), true
				}
			}
			if !isStr || len(s) > maxPIN || strings.Trim(string(s), "0123456789") != "" {
				L.RaiseError("conference: pin must be a string of at most %d digits 0-9, got %s", maxPIN, v.String())
			}
			o.PIN = string(s)
		case "max":
			o.Max = wholeOption(L, "conference", "max", v, 1, maxConfMembers)
		case "moderator":
			o.Moderator = boolOption(L, "moderator", v)
		case "muted":
			o.Muted = boolOption(L, "muted", v)
		case "record":
			o.Record = boolOption(L, "record", v)
		case "gain":
			num, isNum := v.(lua.LNumber)
			if f := float64(num); !isNum || !(f > 0 && f <= maxConfGain) {
				L.RaiseError("conference: gain must be a number above 0 and at most %d, got %s", maxConfGain, v.String())
			}
			o.Gain = float64(num)
		default:
			return false
		}
		return true
	})
	return o
}

func boolOption(L *lua.LState, key string, v lua.LValue) bool {
	b, ok := v.(lua.LBool)
	if !ok {
		L.RaiseError("conference: %s must be true or false, got %s", key, v.String())
	}
	return bool(b)
}

// CheckRoomName accepts a conference room name: 1 to 64 letters,
// digits, '_', '-' or '.', not starting with '.' (so never a path).
func CheckRoomName(name string) error {
	if name == "" || len(name) > maxRoomName || name[0] == '.' || !varName(name) {
		return errors.New("room " + quote(name) + ": want 1 to 64 letters, digits, _ - or . (not starting with .)")
	}
	return nil
}
