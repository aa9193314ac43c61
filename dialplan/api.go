package dialplan

import (
	"context"
	"errors"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// block runs the blocking call API op with the CPU budget paused, and
// raises a Lua error if it fails. When the failure means the call is gone
// (the run's context ended, or the session reports context.Canceled), the
// run's context is canceled so that the script stops even if it catches
// the error with pcall.
func (r *run) block(L *lua.LState, op string, f func(ctx context.Context) error) {
	err := r.blocking(f)
	if err == nil {
		return
	}
	if r.ctx.Err() != nil || errors.Is(err, context.Canceled) {
		r.cancel(&goneError{err: err}) // no-op when already canceled
		L.RaiseError("%s: call ended", op)
		return
	}
	L.RaiseError("%s: %v", op, err)
}

func (r *run) blocking(f func(ctx context.Context) error) error {
	r.wd.enter()
	defer r.wd.leave()
	return f(r.ctx)
}

// call:header(name) -> string or nil
func luaHeader(L *lua.LState) int {
	r := self(L, "header")
	name := argString(L, 2, "header", "name")
	if v := r.sess.Header(name); v != "" {
		L.Push(lua.LString(v))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// call:answer()
func luaAnswer(L *lua.LState) int {
	r := self(L, "answer")
	r.block(L, "answer", r.sess.Answer)
	return 0
}

// call:ring()
func luaRing(L *lua.LState) int {
	r := self(L, "ring")
	r.block(L, "ring", r.sess.Ring)
	return 0
}

// call:collect{max=, timeout=, terminator=, prompt=} -> digits
func luaCollect(L *lua.LState) int {
	r := self(L, "collect")
	opts := collectOptions(L, 2)
	var digits string
	r.block(L, "collect", func(ctx context.Context) error {
		var err error
		digits, err = r.sess.Collect(ctx, opts)
		return err
	})
	L.Push(lua.LString(digits))
	return 1
}

// call:bridge(targets, {timeout=}) -> true | nil, reason
func luaBridge(L *lua.LState) int {
	r := self(L, "bridge")
	targets := bridgeTargets(L, 2)
	opts := bridgeOptions(L, 3)
	var (
		ok     bool
		reason string
	)
	r.block(L, "bridge", func(ctx context.Context) error {
		var err error
		ok, reason, err = r.sess.Bridge(ctx, targets, opts)
		return err
	})
	return pushOutcome(L, ok, reason)
}

// pushOutcome returns an expected outcome to the script: true, or nil and
// the reason.
func pushOutcome(L *lua.LState, ok bool, reason string) int {
	if ok {
		L.Push(lua.LTrue)
		return 1
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(reason))
	return 2
}

// call:hangup([cause]) with cause a name ("busy", ...) or a SIP status
// code 400-699; the default is "normal".
func luaHangup(L *lua.LState) int {
	r := self(L, "hangup")
	cause := "normal"
	switch v := L.Get(2).(type) {
	case *lua.LNilType:
	case lua.LString:
		if v != "" {
			cause = string(v)
		}
	case lua.LNumber:
		code, ok := integer(v)
		if !ok || code < 400 || code > 699 {
			L.RaiseError("hangup: cause must be a SIP status code 400-699, got %v", v)
			return 0
		}
		cause = strconv.Itoa(code)
	default:
		L.RaiseError("hangup: cause must be a string or a SIP status code, got %s", v.Type())
		return 0
	}
	r.block(L, "hangup", func(ctx context.Context) error { return r.sess.Hangup(ctx, cause) })
	return 0
}

// call:set(name, value) with value a string, number or boolean.
func luaSet(L *lua.LState) int {
	r := self(L, "set")
	name := argString(L, 2, "set", "name")
	var value string
	switch v := L.Get(3).(type) {
	case lua.LString, lua.LNumber, lua.LBool:
		value = v.String()
	default:
		L.RaiseError("set: value must be a string, number or boolean, got %s", v.Type())
		return 0
	}
	r.setVar(L, name, value)
	r.sess.Set(name, value)
	return 0
}

// call:set_caller(number [, name]) sets the caller presented to the
// called party: digits with an optional leading +, and a display name.
func luaSetCaller(L *lua.LState) int {
	r := self(L, "set_caller")
	number, name := callerArgs(L, "set_caller")
	r.sess.SetCaller(number, name)
	return 0
}

// callerArgs checks the (number [, name]) arguments of fn, a method: a
// number of digits with an optional leading +, and a display name.
func callerArgs(L *lua.LState, fn string) (number, name string) {
	number = argString(L, 2, fn, "number")
	if !callerNumber(number) {
		L.RaiseError("%s: number %q: want digits with an optional leading +", fn, number)
	}
	if v, ok := L.Get(3).(lua.LString); ok {
		name = string(v)
	} else if L.Get(3) != lua.LNil {
		L.RaiseError("%s: name must be a string, got %s", fn, L.Get(3).Type())
	}
	if len(name) > 64 || strings.ContainsAny(name, "\"\r\n\x00") {
		L.RaiseError("%s: name %q: at most 64 characters, no quotes or line breaks", fn, name)
	}
	return number, name
}

func callerNumber(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range s {
		if !(c >= '0' && c <= '9' || c == '+' && i == 0) {
			return false
		}
	}
	return true
}

// trunkLibrary returns the trunk table every call reads through (its
// functions find the call's run through the state's context).
func trunkLibrary(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 1)
	t.RawSetString("up", L.NewFunction(withRun((*run).luaTrunkUp)))
	return t
}

// trunk.up(name) -> boolean: whether the trunk answers its keepalives.
func (r *run) luaTrunkUp(L *lua.LState) int {
	name := argString(L, 1, "trunk.up", "name")
	up, err := r.sess.TrunkUp(name)
	if err != nil {
		L.RaiseError("trunk.up: %v", err)
		return 0
	}
	L.Push(lua.LBool(up))
	return 1
}
