package b2bua

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/recording"
)

// Call is one inbound call: leg A, the dialplan running on it, and the
// bridges it makes. Its methods (the dialplan.Session) run on the call's
// owner goroutine.
type Call struct {
	e    *Engine
	a    leg.Leg
	info CallInfo
	log  *slog.Logger

	ctx    context.Context // ends when leg A hangs up or the engine terminates the call
	cancel context.CancelCauseFunc
	digits chan rune       // from leg A, read by Collect and bridges
	refers chan *leg.Refer // transfers leg A asked for, read by bridges
	// handover takes requests from another call for this call's leg B
	// (an attended transfer replacing this call's leg A); read by bridges.
	handover chan handoverReq
	pickups  chan pickupReq // INVITEs with Replaces taking over a ringing branch, read while ringing
	over     chan struct{}  // closed when the call has ended
	pumped   chan struct{}  // closed when leg A's events are all read: the leg has ended
	declines sync.WaitGroup // NOTIFYs declining transfers, sent off a leg's callback

	gateA    *media.Gate   // in front of leg A's sink: prompts override whatever else plays
	aHeld    atomic.Bool   // leg A's peer holds the call (set by the event pump)
	holdA    chan struct{} // a change of aHeld, for the bridge
	answered bool
	ringing  bool // 180 or 183 sent
	early    bool // 183 with SDP sent
	ended    bool // leg A hung up (by us or the peer)
	vars     map[string]string
	// presented is the caller shown to bridged legs (call:set_caller).
	presented presented

	mu     sync.Mutex // guards cdr, aCause and detaching, shared with the event pump
	cdr    store.CDR
	aCause *leg.Cause // set by the event pump when the caller hangs up
	// detaching is set while the caller transfers the call away: its
	// hangup then does not end the call.
	detaching bool
	// bridging is set while a bridge reads c.refers: a transfer asked
	// for at another time (an IVR playing) is declined at once.
	bridging bool
	admin    *leg.Cause // set by Engine.Hangup (admin.go)

	// recPath is the call recording call:record_call armed, opened by the
	// next bridge; rec is the recording of the bridge in progress. Owned
	// by the call's goroutine.
	recPath string
	rec     *recording.Recorder
}

type presented struct{ number, name string }

var errCallerGone = errors.New("caller hung up")

func newCall(e *Engine, a leg.Leg, info CallInfo) *Call {
	c := &Call{
		e: e, a: a, info: info, digits: make(chan rune, 32), vars: make(map[string]string), holdA: make(chan struct{}, 1),
		refers: make(chan *leg.Refer, 4), handover: make(chan handoverReq), pickups: make(chan pickupReq), over: make(chan struct{}),
		log:       e.log.With("call_id", info.ID),
		presented: presented{number: info.Caller, name: info.CallerName},
	}
	c.cdr = store.CDR{UID: rand.Text(), State: store.CDRRinging, CallID: info.ID, Caller: info.Caller,
		Destination: info.Destination, Start: time.Now()}
	c.gateA = media.NewGate(a.AudioSink())
	return c
}

// run is the owner goroutine: event pump, dialplan, final hangup, CDR.
func (c *Call) run(parent context.Context) {
	c.mu.Lock()
	c.ctx, c.cancel = context.WithCancelCause(context.WithoutCancel(parent))
	hungUp := c.admin != nil // Engine.Hangup came before the call ran
	c.mu.Unlock()
	defer c.cancel(nil)
	defer close(c.over)
	if hungUp {
		c.cancel(errAdminHangup)
	}
	pumpDone := make(chan struct{})
	c.pumped = pumpDone
	c.listen(pumpDone)

	c.log.Info("call", "caller", c.info.Caller, "destination", c.info.Destination, "source", c.info.Source, "transport", c.info.Transport)
	c.progressCDR("")
	err := c.e.dp.Run(c.ctx, c)
	switch {
	case err == nil:
	case c.ctx.Err() != nil:
		// The caller hung up while the script ran: not a script error.
	case errors.Is(err, dialplan.ErrScript):
		c.log.Error("dialplan failed", "error", err)
		if !c.answered {
			c.hangupA(leg.Failure, "system")
		}
	default:
		c.log.Error("dialplan failed", "error", err)
	}
	c.mu.Lock()
	callerCause := c.aCause
	c.mu.Unlock()
	if callerCause != nil && !c.ended {
		// The caller left first: release the leg (nothing more is sent on
		// an ended dialog) and record their cause.
		c.hangupA(*callerCause, "caller")
	}
	c.adminHangupA()
	if !c.ended {
		cause := leg.Normal
		if !c.answered {
			// The script decided nothing: nobody here to take the call.
			cause = leg.Unavailable
		}
		c.hangupA(cause, "system")
	}
	<-c.pumped // leg A's pump (leg A may have changed in a transfer by the caller)
	c.declines.Wait()
	c.refuseRefers()
	c.finishCDR()
}

// eventHandlerSetter is a leg that can deliver its events through a
// callback (sipleg's legs): the call then needs no pump goroutine.
type eventHandlerSetter interface {
	SetEventHandler(h func(leg.Event), end func())
}

// listen handles leg A's events until the leg ends, then closes done: by
// a callback when the leg takes one, else on a pump goroutine.
func (c *Call) listen(done chan struct{}) {
	if hs, ok := c.a.(eventHandlerSetter); ok {
		hs.SetEventHandler(func(ev leg.Event) { c.onEvent(ev, true) }, func() { close(done) })
		return
	}
	go c.pump(done)
}

// pump reads leg A's events until the leg ends.
func (c *Call) pump(done chan struct{}) {
	defer close(done)
	for ev := range c.a.Events() {
		c.onEvent(ev, false)
	}
}

// onEvent handles one of leg A's events. It must not block: with
// callback true it runs on the goroutine that produced the event (a SIP
// handler that answers after it), so a NOTIFY declining a transfer is
// sent from a goroutine of its own.
func (c *Call) onEvent(ev leg.Event, callback bool) {
	switch ev.Kind {
	case leg.EventHangup:
		cause := ev.Cause
		c.mu.Lock()
		c.aCause = &cause
		detaching := c.detaching
		c.mu.Unlock()
		if !detaching {
			c.cancel(errCallerGone)
		}
	case leg.EventMediaTimeout:
		cause := leg.MediaTimeout
		c.mu.Lock()
		c.aCause = &cause
		c.mu.Unlock()
		c.log.Warn("no media from the caller: ending the call")
		c.cancel(errCallerGone)
	case leg.EventHold, leg.EventResume:
		c.aHeld.Store(ev.Kind == leg.EventHold)
		select {
		case c.holdA <- struct{}{}:
		default: // a change already waits; the bridge reads aHeld
		}
	case leg.EventRefer:
		if ev.Refer == nil {
			return
		}
		c.mu.Lock()
		bridging := c.bridging
		c.mu.Unlock()
		if !bridging {
			c.log.Info("transfer declined: the call is not bridged")
			c.decline(ev.Refer, 603, "Decline", callback)
			return
		}
		select {
		case c.refers <- ev.Refer:
		default:
			c.decline(ev.Refer, 503, "Service Unavailable", callback)
		}
	case leg.EventDTMF:
		select {
		case c.digits <- ev.Digit:
		default:
			c.log.Warn("digit queue full, digit dropped", "digit", string(ev.Digit))
		}
	}
}

// decline ends a transfer with a NOTIFY of code: at once on the pump, on
// a goroutine the call waits for from a callback.
func (c *Call) decline(r *leg.Refer, code int, reason string, callback bool) {
	if !callback {
		notify(c.ctx, c, r, code, reason)
		return
	}
	c.declines.Add(1)
	go func() {
		defer c.declines.Done()
		notify(c.ctx, c, r, code, reason)
	}()
}

// terminate ends the call from outside (shutdown).
func (c *Call) terminate() { c.cancel(errors.New("terminated")) }

// hangupA ends leg A with cause once and notes it in the CDR.
func (c *Call) hangupA(cause leg.Cause, side string) {
	if c.ended {
		return
	}
	c.ended = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.a.Hangup(ctx, cause); err != nil {
		c.log.Warn("hanging up the caller failed", "error", err)
	}
	c.mu.Lock()
	c.cdr.End = time.Now() // the call is over for the caller, whatever the callee's leg still waits for
	c.cdr.Cause, c.cdr.Q850, c.cdr.Side = cause.Name, cause.Q850, side
	switch {
	case c.answered:
		c.cdr.SIPCode = 200
	case side == "caller":
		c.cdr.SIPCode = 487 // the caller CANCELed: the INVITE ended with 487
	default:
		c.cdr.SIPCode = cause.SIP
	}
	c.mu.Unlock()
}

// progressCDR records the call in progress (in state, when given), so
// that a crash before its end still leaves its record.
func (c *Call) progressCDR(state string) {
	if c.e.cdrs == nil {
		return
	}
	c.mu.Lock()
	if state != "" {
		c.cdr.State = state
	}
	if state == store.CDRUp {
		c.cdr.CodecA = c.a.Codec()
	}
	c.cdr.Vars = maps.Clone(c.vars)
	rec := c.cdr
	c.mu.Unlock()
	c.e.cdrs.Progress(rec)
}

func (c *Call) finishCDR() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cdr.State = store.CDREnded
	if c.cdr.End.IsZero() {
		c.cdr.End = time.Now()
	}
	c.cdr.CodecA = c.a.Codec()
	c.cdr.Vars = maps.Clone(c.vars)
	if c.e.cdrs != nil {
		c.e.cdrs.Write(c.cdr)
	}
	c.log.Info("call ended", "cause", c.cdr.Cause, "side", c.cdr.Side, "duration", c.cdr.Duration().Round(time.Millisecond),
		"vars", c.vars)
}

// gone reports the caller's hangup as the error dialplan methods return.
func (c *Call) gone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("call %s: %w", c.info.ID, err)
	}
	return nil
}

// closedUnder handles a media error on leg A: when the endpoint was
// closed, the leg has ended and its hangup event is queued (a leg ends
// after emitting it), so wait for the pump to take it; the call then ends
// as the caller's hangup, not as a script error.
func (c *Call) closedUnder(ctx context.Context, err error) {
	if !errors.Is(err, media.ErrClosed) {
		return
	}
	select {
	case <-ctx.Done():
	case <-c.pumped:
		c.cancel(errCallerGone) // the leg ended without a hangup event
	}
}

// --- dialplan.Session ---

func (c *Call) ID() string          { return c.info.ID }
func (c *Call) Caller() string      { return c.info.Caller }
func (c *Call) CallerName() string  { return c.info.CallerName }
func (c *Call) Destination() string { return c.info.Destination }
func (c *Call) Source() string      { return c.info.Source }
func (c *Call) Transport() string   { return c.info.Transport }

func (c *Call) Header(name string) string {
	if c.info.Header == nil {
		return ""
	}
	return c.info.Header(name)
}

func (c *Call) Trunk() string { return c.info.Trunk }

// Set attaches a variable to the call: it goes into the CDR (vars) and
// the call's "call ended" log line, and is logged as it is set.
func (c *Call) Set(name, value string) {
	c.vars[name] = value
	c.log.Info("call variable", "name", name, "value", value)
}

// SetCaller changes the caller presented on the legs bridged from now on;
// call.caller still tells who really calls.
func (c *Call) SetCaller(number, name string) {
	c.presented = presented{number: number, name: name}
}

// TrunkUp tells whether a trunk answers its keepalives.
func (c *Call) TrunkUp(name string) (bool, error) {
	if c.e.trunks == nil {
		return false, fmt.Errorf("no trunk %q: no trunks configured", name)
	}
	return c.e.trunks.Up(name)
}

func (c *Call) Answer(ctx context.Context) error {
	if err := c.gone(ctx); err != nil {
		return err
	}
	if c.answered || c.ended {
		return nil
	}
	if err := c.a.Answer(ctx); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	c.answered = true
	c.mu.Lock()
	c.cdr.Answer = time.Now()
	c.mu.Unlock()
	c.progressCDR(store.CDRUp)
	return nil
}

func (c *Call) Ring(ctx context.Context) error {
	if err := c.gone(ctx); err != nil {
		return err
	}
	if c.answered || c.ringing || c.ended {
		return nil
	}
	c.ringing = true
	return c.a.Ring(ctx, false)
}

// earlyMedia sends 183 with SDP once, so audio can flow before the answer.
func (c *Call) earlyMedia(ctx context.Context) error {
	if c.answered || c.early || c.ended {
		return nil
	}
	c.early, c.ringing = true, true
	return c.a.Ring(ctx, true)
}

// Play plays a prompt to the caller: an embedded name, a file of the
// prompt directory or a WAV path, taken from the engine's prompt store at
// the rate of the caller's leg (shared, never copied). An unanswered call
// gets early media (183) rather than being answered.
func (c *Call) Play(ctx context.Context, name string) error {
	if err := c.gone(ctx); err != nil {
		return err
	}
	sink := c.gateA.Override()
	p, err := c.e.prompts.Prompt(name, sink.Rate())
	if err != nil {
		return fmt.Errorf("play %q: %w", name, err)
	}
	if err := c.earlyMedia(ctx); err != nil {
		return fmt.Errorf("play: %w", err)
	}
	if rate := sink.Rate(); rate != p.Rate {
		// Negotiation settled the leg's rate meanwhile.
		if p, err = c.e.prompts.Prompt(name, rate); err != nil {
			return fmt.Errorf("play %q: %w", name, err)
		}
	}
	release := c.gateA.Hold()
	defer release()
	if err := media.Play(ctx, p, sink); err != nil {
		c.closedUnder(ctx, err)
		if ctx.Err() != nil {
			return c.gone(ctx)
		}
		return fmt.Errorf("play %q: %w", name, err)
	}
	return nil
}

// Collect reads digits from the caller.
func (c *Call) Collect(ctx context.Context, o dialplan.CollectOptions) (string, error) {
	if o.Max <= 0 {
		o.Max = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Terminator == "" {
		o.Terminator = "#"
	}
	if o.Prompt != "" {
		pctx, stop := context.WithCancel(ctx)
		defer stop()
		playing := make(chan error, 1)
		go func() { playing <- c.Play(pctx, o.Prompt) }()
		select {
		case d := <-c.digits:
			stop()
			<-playing
			return c.collectRest(ctx, o, d)
		case err := <-playing:
			if err != nil && ctx.Err() == nil {
				c.log.Warn("collect prompt failed", "error", err)
			}
		case <-ctx.Done():
			<-playing
			return "", c.gone(ctx)
		}
	}
	return c.collectRest(ctx, o, 0)
}

func (c *Call) collectRest(ctx context.Context, o dialplan.CollectOptions, first rune) (string, error) {
	var b strings.Builder
	accept := func(d rune) bool { // true when collection is complete
		if strings.ContainsRune(o.Terminator, d) {
			return true
		}
		b.WriteRune(d)
		return b.Len() >= o.Max
	}
	if first != 0 && accept(first) {
		return b.String(), nil
	}
	t := time.NewTimer(o.Timeout)
	defer t.Stop()
	for {
		select {
		case d := <-c.digits:
			if accept(d) {
				return b.String(), nil
			}
			t.Reset(o.Timeout)
		case <-t.C:
			return b.String(), nil
		case <-ctx.Done():
			return b.String(), c.gone(ctx)
		}
	}
}

// Hangup ends the call with a cause ("busy", "486", ...).
func (c *Call) Hangup(ctx context.Context, cause string) error {
	cs, ok := leg.CauseFromName(cause)
	if !ok {
		return fmt.Errorf("hangup: unknown cause %q", cause)
	}
	if c.answered {
		// After the answer every hangup is a BYE; keep the reason for the CDR.
		cs.SIP = 0
	}
	c.hangupA(cs, "system")
	return nil
}
