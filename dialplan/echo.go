package dialplan

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Echo test defaults and limits.
const (
	DefaultEcho = 300 * time.Second
	maxEcho     = time.Hour
)

// Echoer is implemented by sessions that can send the caller's audio
// back to them (an echo test).
type Echoer interface {
	// Echo answers the call if needed and sends back to the caller what
	// it receives, until the caller hangs up (the error is then the
	// context's) or d passes. DTMF ends nothing.
	Echo(ctx context.Context, d time.Duration) error
}

// call:echo([seconds])
func luaEcho(L *lua.LState) int {
	r := self(L, "echo")
	d := DefaultEcho
	if v := L.Get(2); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		f := float64(n)
		if !ok || !(f > 0 && f <= maxEcho.Seconds()) {
			L.RaiseError("echo: seconds must be a number between 0 and %v, got %s", maxEcho.Seconds(), v.String())
			return 0
		}
		d = time.Duration(f * float64(time.Second))
	}
	e, ok := r.sess.(Echoer)
	if !ok {
		L.RaiseError("echo: %v", ErrUnsupported)
		return 0
	}
	r.block(L, "echo", func(ctx context.Context) error { return e.Echo(ctx, d) })
	return 0
}
