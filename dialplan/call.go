package dialplan

import (
	lua "github.com/yuin/gopher-lua"
)

// callType is the call object's type: a metatable whose __index serves
// the read-only fields (call.caller, ...) and the methods (call:answer(),
// ...). It is built once and shared by every call's state: its Go
// functions find their call in the userdata they are given, and scripts
// can neither read nor replace the metatable (__metatable protects it).
// Unknown fields and assignments are errors, so that a typo fails loudly
// at its line instead of reading nil.
type callType struct {
	metatable *lua.LTable
	methods   map[string]*lua.LFunction
}

func newCallType(L *lua.LState) *callType {
	t := &callType{methods: make(map[string]*lua.LFunction, 8)}
	for name, fn := range map[string]lua.LGFunction{
		"header":      luaHeader,
		"answer":      luaAnswer,
		"ring":        luaRing,
		"play":        luaPlay,
		"collect":     luaCollect,
		"bridge":      luaBridge,
		"hangup":      luaHangup,
		"set":         luaSet,
		"set_caller":  luaSetCaller,
		"get":         luaGet,
		"sleep":       luaSleep,
		"say_digits":  luaSayDigits,
		"say_number":  luaSayNumber,
		"record":      luaRecord,
		"record_call": luaRecordCall,
		"echo":        luaEcho,
		"conference":  luaConference,

		"voicemail":          luaVoicemail,
		"voicemail_messages": luaVoicemailMessages,
		"voicemail_heard":    luaVoicemailHeard,
		"voicemail_delete":   luaVoicemailDelete,

		"transfer": luaTransfer,
	} {
		t.methods[name] = L.NewFunction(fn)
	}
	t.metatable = L.CreateTable(0, 4)
	t.metatable.RawSetString("__index", L.NewFunction(t.luaIndex))
	t.metatable.RawSetString("__newindex", L.NewFunction(luaCallNewIndex))
	t.metatable.RawSetString("__tostring", L.NewFunction(luaCallString))
	t.metatable.RawSetString("__metatable", lua.LString("call"))
	return t
}

// newCall returns r's call object.
func (t *callType) newCall(L *lua.LState, r *run) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = r
	ud.Metatable = t.metatable
	return ud
}

// callRun returns the run of the call object at argument 1, or nil.
func callRun(L *lua.LState) *run {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if r, ok := ud.Value.(*run); ok {
			return r
		}
	}
	return nil
}

// self returns the run of a method's call, checking that the method was
// called as call:method(...), not call.method(...).
func self(L *lua.LState, method string) *run {
	r := callRun(L)
	if r == nil {
		L.RaiseError("%s: call it as call:%s(...), not call.%s(...)", method, method, method)
	}
	return r
}

// luaIndex serves call.field and call:method.
func (t *callType) luaIndex(L *lua.LState) int {
	r := callRun(L)
	key, ok := L.Get(2).(lua.LString)
	if r == nil || !ok {
		L.RaiseError("call has no field %s", L.Get(2).String())
		return 0
	}
	var v string
	switch key {
	case "id":
		v = r.sess.ID()
	case "caller":
		v = r.sess.Caller()
	case "caller_name":
		v = r.sess.CallerName()
	case "destination":
		v = r.sess.Destination()
	case "source":
		v = r.sess.Source()
	case "transport":
		v = r.sess.Transport()
	case "trunk":
		v = r.sess.Trunk()
	case "referred_by":
		v = referredBy(r.sess)
	default:
		m, ok := t.methods[string(key)]
		if !ok {
			L.RaiseError("call has no field or method %q", string(key))
			return 0
		}
		L.Push(m)
		return 1
	}
	L.Push(lua.LString(v))
	return 1
}

func luaCallNewIndex(L *lua.LState) int {
	L.RaiseError("call.%s is read-only", L.Get(2).String())
	return 0
}

func luaCallString(L *lua.LState) int {
	if r := callRun(L); r != nil {
		L.Push(lua.LString("call " + r.sess.ID()))
		return 1
	}
	L.Push(lua.LString("call"))
	return 1
}
