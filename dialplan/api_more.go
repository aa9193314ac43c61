package dialplan

import (
	"context"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits of the call API added for IVRs.
const (
	maxSleep     = time.Hour
	maxPrompts   = 64   // prompts one call:play, say_digits or say_number plays
	maxVars      = 64   // distinct names call:set may store
	maxVarName   = 64   // bytes
	maxVarValue  = 1024 // bytes
	maxSayNumber = 999_999_999
)

// setVar stores name=value for call:get, refusing names and values that
// would bloat the CDR.
func (r *run) setVar(L *lua.LState, name, value string) {
	if len(name) > maxVarName {
		L.RaiseError("set: name %q is %d bytes, at most %d", name, len(name), maxVarName)
		return
	}
	if len(value) > maxVarValue {
		L.RaiseError("set: value of %s is %d bytes, at most %d", name, len(value), maxVarValue)
		return
	}
	if r.vars == nil {
		r.vars = make(map[string]string)
	}
	if _, ok := r.vars[name]; !ok && len(r.vars) >= maxVars {
		L.RaiseError("set: more than %d variables", maxVars)
		return
	}
	r.vars[name] = value
	r.log.Debug("dialplan: set", "name", name, "value", value)
}

func varName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// call:get(name) -> the value call:set stored, or nil.
func luaGet(L *lua.LState) int {
	r := self(L, "get")
	name := argString(L, 2, "get", "name")
	if v, ok := r.vars[name]; ok {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// call:sleep(seconds) waits, at most an hour; it ends early (and the
// script with it) when the caller hangs up.
func luaSleep(L *lua.LState) int {
	r := self(L, "sleep")
	n, ok := L.Get(2).(lua.LNumber)
	if !ok || n != n || float64(n) < 0 || float64(n) > maxSleep.Seconds() {
		L.RaiseError("sleep: seconds must be a number between 0 and %v, got %s", maxSleep.Seconds(), L.Get(2).String())
		return 0
	}
	d := time.Duration(float64(n) * float64(time.Second))
	r.block(L, "sleep", func(ctx context.Context) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
			return nil
		}
	})
	return 0
}

// call:play(prompt, ...) or call:play{prompt, ...} plays prompts in a
// row: names of shipped prompts or WAV paths.
func luaPlay(L *lua.LState) int {
	r := self(L, "play")
	var prompts []string
	if t, ok := L.Get(2).(*lua.LTable); ok && L.GetTop() == 2 {
		n := t.Len()
		if n == 0 || n > maxPrompts {
			L.RaiseError("play: want 1 to %d prompts, got %d", maxPrompts, n)
			return 0
		}
		for i := 1; i <= n; i++ {
			s, ok := t.RawGetInt(i).(lua.LString)
			if !ok || s == "" {
				L.RaiseError("play: prompt %d must be a non-empty string, got %s", i, t.RawGetInt(i).String())
				return 0
			}
			prompts = append(prompts, string(s))
		}
	} else {
		n := L.GetTop() - 1
		if n > maxPrompts {
			L.RaiseError("play: want 1 to %d prompts, got %d", maxPrompts, n)
			return 0
		}
		for i := 2; i <= L.GetTop() || i == 2; i++ {
			what := "prompt"
			if i > 2 {
				what += " " + strconv.Itoa(i-1)
			}
			prompts = append(prompts, argString(L, i, "play", what))
		}
	}
	r.playAll(L, "play", prompts)
	return 0
}

// playAll plays prompts one after the other.
func (r *run) playAll(L *lua.LState, op string, prompts []string) {
	r.block(L, op, func(ctx context.Context) error {
		for _, p := range prompts {
			if err := r.sess.Play(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// call:say_digits(digits) speaks each digit: "1234" is one, two, three,
// four. digits is a string of 0-9 (a number is taken as its digits).
func luaSayDigits(L *lua.LState) int {
	r := self(L, "say_digits")
	var s string
	switch v := L.Get(2).(type) {
	case lua.LString:
		s = string(v)
	case lua.LNumber:
		n, ok := integer(v)
		if !ok || n < 0 {
			L.RaiseError("say_digits: want a string of digits or a whole number >= 0, got %s", v.String())
			return 0
		}
		s = strconv.Itoa(n)
	default:
		L.RaiseError("say_digits: want a string of digits, got %s", v.Type())
		return 0
	}
	prompts, err := DigitPrompts(s)
	if err != nil {
		L.RaiseError("say_digits: %v", err)
		return 0
	}
	r.playAll(L, "say_digits", prompts)
	return 0
}

// call:say_number(n) speaks a whole number in English words:
// 1234 is one thousand two hundred thirty four.
func luaSayNumber(L *lua.LState) int {
	r := self(L, "say_number")
	v, ok := L.Get(2).(lua.LNumber)
	n, whole := integer(v)
	if !ok || !whole || n < -maxSayNumber || n > maxSayNumber {
		L.RaiseError("say_number: want a whole number between %d and %d, got %s", -maxSayNumber, maxSayNumber, L.Get(2).String())
		return 0
	}
	r.playAll(L, "say_number", NumberPrompts(n))
	return 0
}
