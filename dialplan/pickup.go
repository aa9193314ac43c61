package dialplan

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// Pickup is a directed call pickup as on_pickup(p) sees it: an extension
// answering, with an INVITE carrying Replaces (RFC 3891), a call that
// rings elsewhere.
type Pickup struct {
	By          string // the authenticated extension picking up
	Caller      string // the ringing call's caller
	Destination string // the number the ringing call dialled
}

// PickupDecision is what on_pickup decided. Handled is false when the
// script defines no on_pickup (the caller applies its default).
type PickupDecision struct {
	Handled bool
	Allow   bool // on_pickup returned true
}

// OnPickup runs on_pickup(p) for p in a fresh sandboxed Lua state under
// the call limits: the pickup is allowed only when it returns true. A
// *ScriptError when the script failed (the caller then refuses).
func (e *Engine) OnPickup(ctx context.Context, p Pickup) (PickupDecision, error) {
	proto := e.current(ctx)
	var d PickupDecision
	log := e.log.With("pickup_by", p.By, "pickup_destination", p.Destination)
	arg := func(L *lua.LState) lua.LValue {
		t := L.CreateTable(0, 3)
		t.RawSetString("by", lua.LString(p.By))
		t.RawSetString("caller", lua.LString(p.Caller))
		t.RawSetString("destination", lua.LString(p.Destination))
		return t
	}
	err := execute(ctx, e.lib, proto, e.cfg, nil, log, optional("on_pickup", &d.Handled, arg, func(v lua.LValue) {
		d.Allow = v == lua.LTrue
	}))
	if err != nil {
		log.Debug("dialplan: on_pickup stopped", "err", err)
		d.Allow = false
	}
	return d, err
}
