package dialplan

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// Limits of on_message's decisions.
const (
	maxMessageTargets = 16
	maxReplyBytes     = 8 << 10
)

// Message is a SIP MESSAGE as on_message(msg) sees it.
type Message struct {
	From        string // the authenticated sender's extension, or the number a carrier presents
	To          string // the Request-URI's user; from a carrier, the DID
	Trunk       string // the carrier the message came from ("" for extensions)
	Body        string
	ContentType string
}

// MessageDecision is what on_message decided. Handled is false when the
// script defines no on_message (the caller applies its default).
type MessageDecision struct {
	Handled bool
	Deliver []string // msg:deliver(target), in order
	Reply   string   // msg:reply(text): a text sent back to the sender
	Replied bool
	Reject  int // msg:reject(code), 400-699; 0 when not called
	// msg:set_caller(number [, name]): the sender presented on the
	// trunk targets (as call:set_caller for calls); "" when not called.
	CallerNumber, CallerName string
}

// OnMessage runs on_message(msg) for m in a fresh sandboxed Lua state
// under the call limits, and returns its decisions; a *ScriptError when
// the script failed.
func (e *Engine) OnMessage(ctx context.Context, m Message) (MessageDecision, error) {
	proto := e.current(ctx)
	var d MessageDecision
	log := e.log.With("message_from", m.From, "message_to", m.To)
	err := execute(ctx, e.lib, proto, e.cfg, nil, log, optional("on_message", &d.Handled, func(L *lua.LState) lua.LValue {
		return messageTable(L, m, &d)
	}, nil))
	if err != nil {
		log.Debug("dialplan: on_message stopped", "err", err)
	}
	return d, err
}

// messageTable is the msg argument: fields and the three decisions.
func messageTable(L *lua.LState, m Message, d *MessageDecision) *lua.LTable {
	t := L.CreateTable(0, 9)
	t.RawSetString("from", lua.LString(m.From))
	t.RawSetString("trunk", lua.LString(m.Trunk))
	t.RawSetString("to", lua.LString(m.To))
	t.RawSetString("body", lua.LString(m.Body))
	t.RawSetString("content_type", lua.LString(m.ContentType))
	t.RawSetString("deliver", L.NewFunction(func(L *lua.LState) int {
		target := argString(L, 2, "msg:deliver", "target")
		if len(d.Deliver) >= maxMessageTargets {
			L.RaiseError("msg:deliver: more than %d targets", maxMessageTargets)
		}
		d.Deliver = append(d.Deliver, target)
		return 0
	}))
	t.RawSetString("reply", L.NewFunction(func(L *lua.LState) int {
		text := argString(L, 2, "msg:reply", "text")
		if len(text) > maxReplyBytes {
			L.RaiseError("msg:reply: text over %d bytes", maxReplyBytes)
		}
		d.Reply, d.Replied = text, true
		return 0
	}))
	t.RawSetString("set_caller", L.NewFunction(func(L *lua.LState) int {
		d.CallerNumber, d.CallerName = callerArgs(L, "msg:set_caller")
		return 0
	}))
	t.RawSetString("reject", L.NewFunction(func(L *lua.LState) int {
		n, ok := L.Get(2).(lua.LNumber)
		code, isInt := integer(n)
		if !ok || !isInt || code < 400 || code > 699 {
			L.RaiseError("msg:reject: code must be an integer from 400 to 699, got %s", L.Get(2).String())
		}
		d.Reject = code
		return 0
	}))
	return t
}
