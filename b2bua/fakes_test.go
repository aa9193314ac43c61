package b2bua

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// fakeLeg records what the call did to it.
type fakeLeg struct {
	id     string
	events chan leg.Event
	rec    *audiotest.Recorder

	mu     sync.Mutex
	log    []string
	out    media.Sink
	closed bool

	onHangup func() // called as Hangup starts, if set
}

func newFakeLeg(id string) *fakeLeg {
	return &fakeLeg{id: id, events: make(chan leg.Event, 16), rec: audiotest.NewRecorder(8000)}
}

func (f *fakeLeg) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, s)
}

func (f *fakeLeg) history() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeLeg) ID() string               { return f.id }
func (f *fakeLeg) Events() <-chan leg.Event { return f.events }
func (f *fakeLeg) Codec() string            { return "PCMU" }
func (f *fakeLeg) SetRate(int) error        { return nil }
func (f *fakeLeg) AudioSink() media.Sink    { return f.rec }
func (f *fakeLeg) SetAudioOutput(s media.Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out = s
}

func (f *fakeLeg) output() media.Sink {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out
}

func (f *fakeLeg) Ring(_ context.Context, early bool) error {
	if early {
		f.note("183")
	} else {
		f.note("180")
	}
	return nil
}

func (f *fakeLeg) Answer(context.Context) error { f.note("answer"); return nil }

func (f *fakeLeg) Hangup(_ context.Context, c leg.Cause) error {
	if f.onHangup != nil {
		f.onHangup()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	f.log = append(f.log, fmt.Sprintf("hangup %s %d", c.Name, c.SIP))
	close(f.events)
	return nil
}

func (f *fakeLeg) SendDTMF(d rune, _ time.Duration) error { f.note("dtmf " + string(d)); return nil }

// peerHangup is the peer sending BYE (or CANCEL).
func (f *fakeLeg) peerHangup(c leg.Cause) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	f.log = append(f.log, "peer hangup")
	f.events <- leg.Event{Kind: leg.EventHangup, Cause: c}
	close(f.events)
}

// fakeDialer resolves each target as scripted: one branch, or one per
// device; a target it does not know is not found.
type fakeDialer struct {
	mu      sync.Mutex
	targets map[string]dialOutcome
	dialed  []string // branches dialed
}

type dialOutcome struct {
	after    time.Duration
	leg      *fakeLeg  // answered leg, or
	cause    leg.Cause // failure
	progress []leg.Progress
	never    bool // rings until cancelled
	// late: answers after its context ended (a 200 crossing the CANCEL)
	late bool
	// devices are the branches of a target with several registrations;
	// the fields above then do not apply to the target itself.
	devices []dialOutcome
	// resolveErr fails the target before any branch rings.
	resolveErr error
}

func (d *fakeDialer) Resolve(_ context.Context, target string, _ leg.DialOptions) ([]leg.Branch, error) {
	d.mu.Lock()
	o, ok := d.targets[target]
	d.mu.Unlock()
	switch {
	case !ok:
		return nil, &leg.Error{Cause: leg.NotFound}
	case o.resolveErr != nil:
		return nil, o.resolveErr
	case len(o.devices) == 0:
		return []leg.Branch{&fakeBranch{d: d, name: target, o: o}}, nil
	}
	var bs []leg.Branch
	for i, dev := range o.devices {
		bs = append(bs, &fakeBranch{d: d, name: fmt.Sprintf("%s#%d", target, i), o: dev})
	}
	return bs, nil
}

// fakeBranch is one scripted branch.
type fakeBranch struct {
	d    *fakeDialer
	name string
	o    dialOutcome
}

func (b *fakeBranch) String() string { return b.name }

func (b *fakeBranch) Dial(ctx context.Context, opts leg.DialOptions) (leg.Leg, error) {
	b.d.mu.Lock()
	b.d.dialed = append(b.d.dialed, b.name)
	b.d.mu.Unlock()
	o := b.o
	for _, p := range o.progress {
		opts.OnProgress(p)
	}
	if o.never || o.late {
		<-ctx.Done()
		if o.late {
			return o.leg, nil
		}
		return nil, ctx.Err()
	}
	select {
	case <-time.After(o.after):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if o.leg != nil {
		return o.leg, nil
	}
	return nil, &leg.Error{Cause: o.cause}
}

type scriptFunc func(ctx context.Context, s dialplan.Session) error

func (f scriptFunc) Run(ctx context.Context, s dialplan.Session) error { return f(ctx, s) }

type cdrSink struct {
	mu       sync.Mutex
	cdrs     []store.CDR
	progress []store.CDR
}

func (c *cdrSink) Progress(r store.CDR) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.progress = append(c.progress, r)
}

func (c *cdrSink) Write(r store.CDR) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cdrs = append(c.cdrs, r)
}

func (c *cdrSink) all() []store.CDR {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]store.CDR(nil), c.cdrs...)
}
