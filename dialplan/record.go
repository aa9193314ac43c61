package dialplan

import (
	"context"
	"errors"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ErrUnsupported is returned by the call API for a feature the Session
// does not implement.
var ErrUnsupported = errors.New("not supported by this call")

// Recording defaults and limits.
const (
	DefaultRecordMax = 60 * time.Second
	maxRecord        = time.Hour
	maxRecordName    = 64
	recordFields     = "max, silence, terminator"
)

// Why a recording stopped (RecordResult.Reason).
const (
	StopTerminator = "terminator"
	StopSilence    = "silence"
	StopMax        = "max"
	StopHangup     = "hangup"
)

// RecordOptions configures call:record. The dialplan fills in the
// defaults: the Session gets explicit values.
type RecordOptions struct {
	Max        time.Duration // longest recording
	Silence    time.Duration // stop after this much silence; 0: never
	Terminator string        // DTMF digits that stop it (not recorded); "": none
}

// RecordResult tells what was recorded.
type RecordResult struct {
	Path     string        // the WAV file written
	Duration time.Duration // of the audio kept
	Reason   string        // StopTerminator, StopSilence, StopMax or StopHangup
}

// Recorder is implemented by sessions that record the caller.
type Recorder interface {
	// Record records what the caller says into the file called name (a
	// plain file name without directory; the session chooses where),
	// answering the call first if needed. What was recorded is kept when
	// the caller hangs up, and then the error is the context's.
	Record(ctx context.Context, name string, o RecordOptions) (RecordResult, error)
}

// CallRecorder is implemented by sessions that record their bridges.
type CallRecorder interface {
	// RecordCall arms a recording of the call's next bridge, both parties
	// in one stereo file (caller left, callee right) written as the call
	// goes and continued through hold and transfer, and returns the
	// file's path. name is a plain file name (CheckRecordName); "" lets
	// the session choose one.
	RecordCall(ctx context.Context, name string) (string, error)
}

// call:record_call([name]) -> path
func luaRecordCall(L *lua.LState) int {
	r := self(L, "record_call")
	var name string
	if v := L.Get(2); v != lua.LNil {
		s, ok := v.(lua.LString)
		if !ok {
			L.RaiseError("record_call: name must be a string, got %s", v.Type().String())
			return 0
		}
		name = string(s)
		if err := CheckRecordName(name); err != nil {
			L.RaiseError("record_call: %v", err)
			return 0
		}
	}
	rec, ok := r.sess.(CallRecorder)
	if !ok {
		L.RaiseError("record_call: %v", ErrUnsupported)
		return 0
	}
	var path string
	r.block(L, "record_call", func(ctx context.Context) error {
		var err error
		path, err = rec.RecordCall(ctx, name)
		return err
	})
	L.Push(lua.LString(path))
	return 1
}

// call:record(name, {max=, silence=, terminator=}) -> path, seconds, reason
func luaRecord(L *lua.LState) int {
	r := self(L, "record")
	name := argString(L, 2, "record", "name")
	if err := CheckRecordName(name); err != nil {
		L.RaiseError("record: %v", err)
		return 0
	}
	o := RecordOptions{Max: DefaultRecordMax, Terminator: "#"}
	eachOption(L, optTable(L, 3, "record"), "record", recordFields, func(key string, v lua.LValue) bool {
		switch key {
		case "max":
			o.Max = seconds(L, "record", "max", v)
			if o.Max <= 0 || o.Max > maxRecord {
				L.RaiseError("record: max must be between 0 and %v seconds, got %s", maxRecord.Seconds(), v.String())
			}
		case "silence":
			o.Silence = seconds(L, "record", "silence", v)
		case "terminator":
			o.Terminator = terminators(L, "record", v)
		default:
			return false
		}
		return true
	})
	rec, ok := r.sess.(Recorder)
	if !ok {
		L.RaiseError("record: %v", ErrUnsupported)
		return 0
	}
	var res RecordResult
	r.block(L, "record", func(ctx context.Context) error {
		var err error
		res, err = rec.Record(ctx, name, o)
		return err
	})
	L.Push(lua.LString(res.Path))
	L.Push(lua.LNumber(res.Duration.Seconds()))
	L.Push(lua.LString(res.Reason))
	return 3
}

// terminators reads a string of DTMF digits ("" for none).
func terminators(L *lua.LState, op string, v lua.LValue) string {
	s, ok := v.(lua.LString)
	if !ok || len(s) > len(dtmfSymbols) {
		L.RaiseError("%s: terminator must be a string of DTMF digits (%s), got %s", op, dtmfSymbols, v.String())
		return ""
	}
	for _, c := range string(s) {
		if !strings.ContainsRune(dtmfSymbols, c) {
			L.RaiseError("%s: terminator %q: %q is not a DTMF digit (%s)", op, string(s), c, dtmfSymbols)
		}
	}
	return string(s)
}

// CheckRecordName accepts a recording name: 1 to 64 letters, digits,
// '_', '-' or '.', not starting with '.', optionally ending in ".wav".
func CheckRecordName(name string) error {
	base := strings.TrimSuffix(name, ".wav")
	if base == "" || len(name) > maxRecordName || base[0] == '.' || !varName(base) {
		return errors.New("name " + quote(name) + ": want 1 to 64 letters, digits, _ - or . (no directories), optionally ending in .wav")
	}
	return nil
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
