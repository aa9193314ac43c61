package b2bua

import (
	"context"
	"errors"
	"github.com/softswitch/softswitch/media/recording"
	"log/slog"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media/mixer"
	"github.com/softswitch/softswitch/media/prompts"
	"github.com/softswitch/softswitch/sounds"
)

// Dialplan runs the routing script for one call.
type Dialplan interface {
	Run(ctx context.Context, s dialplan.Session) error
}

// CDRs receives the record of each call: Progress as it starts (ringing)
// and when it is answered (up), so that a crash still leaves a record, and
// Write once when it ends. Both return at once: records are saved in
// batches off the call path.
type CDRs interface {
	Progress(c store.CDR)
	Write(c store.CDR)
}

// Config configures the Engine. Zero values mean the defaults.
type Config struct {
	RingTimeout time.Duration // bridge timeout when the dialplan gives none; default 30s
	// MOH is what a party hears while the other holds the call: a prompt
	// name or WAV path looped from the prompt store; "" is DefaultMOH,
	// MOHOff turns it off.
	MOH string
	// DataDir holds recordings (DataDir/recordings unless Recordings
	// says otherwise) and voicemail (DataDir/voicemail/EXT); empty:
	// call:record, call recording and voicemail fail.
	DataDir string
	// Recordings is the directory of call:record and call recordings;
	// "" is DataDir/recordings.
	Recordings string
	// RecordingFormat is the file format of call recordings; "" is WAV.
	// call:record always writes mono WAV.
	RecordingFormat recording.Format
	// TransferFallback is what a transferred party gets when the transfer
	// target fails: TransferReconnect (the default: back to the referrer)
	// or TransferHangup.
	TransferFallback string
	// Conference configures the rooms' mixers (call:conference).
	Conference mixer.Config
}

// Prompts gives the shared, immutable audio of a prompt at a rate (the
// prompt store): a call plays it with its own cursor and never changes it.
type Prompts interface {
	Prompt(name string, rate int) (*sounds.Prompt, error)
}

// TrunkStatus tells the dialplan whether a trunk is up.
type TrunkStatus interface {
	Up(name string) (bool, error)
}

// CallInfo describes an inbound call.
type CallInfo = leg.CallInfo

// Engine runs calls.
type Engine struct {
	cfg     Config
	dp      Dialplan
	dialer  leg.Dialer
	cdrs    CDRs
	log     *slog.Logger
	trunks  TrunkStatus
	prompts Prompts
	boxes   Mailboxes
	confs   *confRooms

	mu     sync.Mutex
	active map[string]*Call
	wg     sync.WaitGroup
	late   sync.WaitGroup // branches still finishing after their bridge was decided (hangUpLate)
}

// New returns an Engine.
func New(cfg Config, dp Dialplan, dialer leg.Dialer, cdrs CDRs, log *slog.Logger) *Engine {
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 30 * time.Second
	}
	return &Engine{cfg: cfg, dp: dp, dialer: dialer, cdrs: cdrs, log: log, active: make(map[string]*Call),
		prompts: prompts.New(prompts.Config{}, log), confs: newConfRooms(cfg.Conference, log)}
}

// SetPrompts makes calls take their prompts from p (the server's prompt
// store, with its directory and bound) instead of the engine's own store
// of embedded prompts and WAV paths. Call it before serving calls.
func (e *Engine) SetPrompts(p Prompts) { e.prompts = p }

// SetTrunks tells calls about the configured trunks (trunk.up in the
// dialplan). Call it before serving calls.
func (e *Engine) SetTrunks(t TrunkStatus) { e.trunks = t }

// Serve runs the call that arrived on in until it ends; it returns after
// both legs are hung up and the CDR is queued.
func (e *Engine) Serve(ctx context.Context, in leg.Leg, info CallInfo) {
	e.wg.Add(1)
	defer e.wg.Done()
	if info.Pickup != "" {
		e.pickup(ctx, in, info)
		return
	}
	c := newCall(e, in, info)
	e.mu.Lock()
	e.active[info.ID] = c
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.active, info.ID)
		e.mu.Unlock()
	}()
	c.run(ctx)
}

// Active returns the number of calls in progress.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.active)
}

// Shutdown waits for the calls in progress to end, at most until ctx ends;
// then it hangs up the rest and waits for their CDRs. Calls hung up that
// way are an orderly end (logged), not an error; an error means some call
// did not end even then. Once the calls ended it also waits for the
// branches that were still ringing when their bridge was decided: a branch
// gives up within SIP timer B (32 s), and one that answered late is hung up.
func (e *Engine) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		e.late.Wait() // no call is left to start a fork
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	n := len(e.active)
	for _, c := range e.active {
		c.terminate()
	}
	e.mu.Unlock()
	e.log.Warn("hanging up calls still up at shutdown", "calls", n)
	select {
	case <-done:
		e.late.Wait()
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("b2bua: calls did not end after hangup")
	}
}
