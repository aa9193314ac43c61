package dialplan

import (
	"context"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Voicemail defaults.
const (
	DefaultVoicemailMax     = 120 * time.Second
	DefaultVoicemailSilence = 5 * time.Second
	voicemailFields         = "greeting, max, silence"
)

// VoicemailOptions configures call:voicemail; the dialplan fills in the
// defaults.
type VoicemailOptions struct {
	Greeting string        // prompt played first; "" for the default (vm-greeting)
	Max      time.Duration // longest message
	Silence  time.Duration // silence that ends a message; 0: never
}

// VoicemailMessage is one message in a mailbox, as the script sees it.
type VoicemailMessage struct {
	ID         int64
	Caller     string
	CallerName string
	Time       time.Time
	Duration   time.Duration
	Heard      bool
	Path       string // the WAV file, playable with call:play
}

// Voicemailer is implemented by sessions with voicemail.
type Voicemailer interface {
	// Voicemail takes a message for ext: greeting, beep, then the caller
	// is recorded until #, silence or the maximum, and the message is
	// stored (also when the caller hangs up while speaking). ok is false
	// with a reason ("not-found": no such extension) when no message can
	// be taken; the session logs why.
	Voicemail(ctx context.Context, ext string, o VoicemailOptions) (ok bool, reason string, err error)
	VoicemailMessages(ctx context.Context, ext string) ([]VoicemailMessage, error)
	VoicemailHeard(ctx context.Context, ext string, id int64) error
	VoicemailDelete(ctx context.Context, ext string, id int64) error
}

// voicemailer returns the session as a Voicemailer or raises an error.
func (r *run) voicemailer(L *lua.LState, op string) Voicemailer {
	vm, ok := r.sess.(Voicemailer)
	if !ok {
		L.RaiseError("%s: %v", op, ErrUnsupported)
	}
	return vm
}

// mailboxArg reads an extension (argument n): 1 to 32 letters, digits,
// '_', '.', '+' or '-', not starting with '.'.
func mailboxArg(L *lua.LState, n int, op string) string {
	ext := argString(L, n, op, "extension")
	if !MailboxName(ext) {
		L.RaiseError("%s: extension %s: want 1 to 32 letters, digits, _ . + or -", op, quote(ext))
	}
	return ext
}

// MailboxName reports whether ext can name a mailbox: an extension name
// that is also safe as a directory name.
func MailboxName(ext string) bool {
	if ext == "" || len(ext) > 32 || ext[0] == '.' {
		return false
	}
	for _, c := range ext {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.+-", c)) {
			return false
		}
	}
	return true
}

// call:voicemail(ext [, {greeting=, max=, silence=}]) -> true | nil, reason
func luaVoicemail(L *lua.LState) int {
	r := self(L, "voicemail")
	ext := mailboxArg(L, 2, "voicemail")
	o := VoicemailOptions{Max: DefaultVoicemailMax, Silence: DefaultVoicemailSilence}
	eachOption(L, optTable(L, 3, "voicemail"), "voicemail", voicemailFields, func(key string, v lua.LValue) bool {
		switch key {
		case "greeting":
			s, ok := v.(lua.LString)
			if !ok || s == "" {
				L.RaiseError("voicemail: greeting must be a non-empty string, got %s", v.String())
			}
			o.Greeting = string(s)
		case "max":
			o.Max = seconds(L, "voicemail", "max", v)
			if o.Max <= 0 || o.Max > maxRecord {
				L.RaiseError("voicemail: max must be between 0 and %v seconds, got %s", maxRecord.Seconds(), v.String())
			}
		case "silence":
			o.Silence = seconds(L, "voicemail", "silence", v)
		default:
			return false
		}
		return true
	})
	vm := r.voicemailer(L, "voicemail")
	var (
		ok     bool
		reason string
	)
	r.block(L, "voicemail", func(ctx context.Context) error {
		var err error
		ok, reason, err = vm.Voicemail(ctx, ext, o)
		return err
	})
	return pushOutcome(L, ok, reason)
}

// call:voicemail_messages(ext) -> array of {id=, caller=, caller_name=,
// time=, seconds=, heard=, path=}, oldest first.
func luaVoicemailMessages(L *lua.LState) int {
	r := self(L, "voicemail_messages")
	ext := mailboxArg(L, 2, "voicemail_messages")
	vm := r.voicemailer(L, "voicemail_messages")
	var msgs []VoicemailMessage
	r.block(L, "voicemail_messages", func(ctx context.Context) error {
		var err error
		msgs, err = vm.VoicemailMessages(ctx, ext)
		return err
	})
	if len(msgs) > maxPrompts*16 {
		msgs = msgs[:maxPrompts*16] // a script walks them one by one: 1024 is plenty
	}
	t := L.CreateTable(len(msgs), 0)
	for _, m := range msgs {
		e := L.CreateTable(0, 7)
		e.RawSetString("id", lua.LNumber(m.ID))
		e.RawSetString("caller", lua.LString(m.Caller))
		e.RawSetString("caller_name", lua.LString(m.CallerName))
		e.RawSetString("time", lua.LNumber(m.Time.Unix()))
		e.RawSetString("seconds", lua.LNumber(m.Duration.Seconds()))
		e.RawSetString("heard", lua.LBool(m.Heard))
		e.RawSetString("path", lua.LString(m.Path))
		t.Append(e)
	}
	L.Push(t)
	return 1
}

// call:voicemail_heard(ext, id) and call:voicemail_delete(ext, id).
func luaVoicemailHeard(L *lua.LState) int  { return voicemailChange(L, "voicemail_heard") }
func luaVoicemailDelete(L *lua.LState) int { return voicemailChange(L, "voicemail_delete") }

func voicemailChange(L *lua.LState, op string) int {
	r := self(L, op)
	ext := mailboxArg(L, 2, op)
	n, ok := L.Get(3).(lua.LNumber)
	id, whole := integer(n)
	if !ok || !whole || id < 1 {
		L.RaiseError("%s: id must be a message id (a whole number >= 1), got %s", op, L.Get(3).String())
		return 0
	}
	vm := r.voicemailer(L, op)
	r.block(L, op, func(ctx context.Context) error {
		if op == "voicemail_delete" {
			return vm.VoicemailDelete(ctx, ext, int64(id))
		}
		return vm.VoicemailHeard(ctx, ext, int64(id))
	})
	return 0
}
