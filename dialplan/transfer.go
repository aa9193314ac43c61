package dialplan

import (
	"context"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Transferer is what a Session implements for transfers: call.referred_by
// names who transferred the call to this dialplan run (RFC 3892
// Referred-By, "" for a call dialled directly), and call:transfer(target)
// runs the dialplan again for target, the caller following it (a blind
// transfer from an IVR).
type Transferer interface {
	ReferredBy() string
	Transfer(ctx context.Context, target string) error
}

// maxTransferTarget bounds the target call:transfer accepts.
const maxTransferTarget = 128

// referredBy is call.referred_by: "" when the session cannot tell.
func referredBy(s Session) string {
	if t, ok := s.(Transferer); ok {
		return t.ReferredBy()
	}
	return ""
}

// call:transfer(target): the dialplan runs again for target (a number
// or an extension), with call.referred_by set to the number called; it
// returns when that run is over.
func luaTransfer(L *lua.LState) int {
	r := self(L, "transfer")
	target := argString(L, 2, "transfer", "target")
	if target == "" || len(target) > maxTransferTarget || strings.ContainsFunc(target, func(c rune) bool { return c < 0x21 || c == 0x7f }) {
		L.RaiseError("transfer: target must be a number or extension of 1 to %d printable characters", maxTransferTarget)
		return 0
	}
	t, ok := r.sess.(Transferer)
	if !ok {
		L.RaiseError("transfer: this call cannot be transferred")
		return 0
	}
	r.block(L, "transfer", func(ctx context.Context) error { return t.Transfer(ctx, target) })
	return 0
}
