package dialplan

import (
	"context"
	"time"
)

// Session is what a dialplan script drives: a call, as the b2bua
// implements it. Every method that blocks takes the call's context, which
// ends when the caller hangs up. Expected outcomes (busy, no answer) are
// not errors: Bridge reports them with ok=false and a reason.
type Session interface {
	ID() string
	Caller() string     // user part of the caller (From), e.g. "1001"
	CallerName() string // display name, may be empty
	Destination() string
	Source() string    // "ip:port" the call came from
	Transport() string // "udp", "tcp", "tls", "ws", "wss"
	Trunk() string     // the carrier the call came from, or ""
	Header(name string) string

	Answer(ctx context.Context) error
	Ring(ctx context.Context) error
	Play(ctx context.Context, prompt string) error
	Collect(ctx context.Context, opts CollectOptions) (string, error)
	Bridge(ctx context.Context, targets []string, opts BridgeOptions) (ok bool, reason string, err error)
	Hangup(ctx context.Context, cause string) error
	Set(name, value string)
	// SetCaller sets the number and name presented on outbound legs
	// (From, and P-Asserted-Identity to trunks).
	SetCaller(number, name string)
	// TrunkUp tells whether a trunk answers its keepalives; an error for
	// a trunk that is not configured.
	TrunkUp(name string) (bool, error)
}

// CollectOptions configures digit collection.
type CollectOptions struct {
	Max        int           // digits at most; default 1
	Timeout    time.Duration // for the first digit and between digits; default 5s
	Terminator string        // digit ending collection early, not returned; default "#"
	Prompt     string        // played first (interrupted by the first digit); optional
}

// BridgeOptions configures a bridge attempt.
type BridgeOptions struct {
	Timeout time.Duration // ring time before giving up with "no-answer"; default 30s
	// Record records the bridge, as call:record_call() with the default
	// name does, unless a recording is already armed.
	Record bool
}
