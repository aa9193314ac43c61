package media

import (
	"sync"
	"sync/atomic"
)

// Gate sits in front of a leg's sink so a prompt can replace the other
// leg's audio while it plays: frames written to the Gate reach the
// destination unless the gate is held; frames written to Override()
// always do. All writes to the destination are serialised, so the
// destination still sees one writer at a time. A Gate is safe for
// concurrent use.
type Gate struct {
	mu     sync.Mutex   // serialises writes to the destination and hold changes
	held   atomic.Int32 // number of outstanding Hold calls, changed under mu
	target atomic.Pointer[gateTarget]
	over   gateOverride
}

// gateTarget boxes a Sink for atomic swaps; sink is nil for a Gate with
// no destination (frames are dropped).
type gateTarget struct {
	sink    Sink
	payload PayloadSink // sink as a PayloadSink, or nil
}

var (
	_ Sink        = (*Gate)(nil)
	_ PayloadSink = (*Gate)(nil)
)

// NewGate returns an open gate in front of dst.
func NewGate(dst Sink) *Gate {
	g := &Gate{}
	g.over.g = g
	g.SetTarget(dst)
	return g
}

// SetTarget makes dst the destination. It waits for a write in progress
// to finish, so no frame reaches the old destination afterwards.
func (g *Gate) SetTarget(dst Sink) {
	t := &gateTarget{sink: dst}
	if ps, ok := dst.(PayloadSink); ok {
		t.payload = ps
	}
	g.mu.Lock()
	g.target.Store(t)
	g.mu.Unlock()
}

// Hold drops frames written to the Gate until release is called; nested
// holds keep the gate held until every release. Once Hold returns, no
// normal frame is being written to the destination. release may be
// called more than once; only the first call counts.
func (g *Gate) Hold() (release func()) {
	g.mu.Lock()
	g.held.Add(1)
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.held.Add(-1)
			g.mu.Unlock()
		})
	}
}

// Held reports whether the gate is held.
func (g *Gate) Held() bool { return g.held.Load() > 0 }

// Override returns a Sink whose frames reach the destination whether or
// not the gate is held: the prompt player writes there.
func (g *Gate) Override() Sink { return &g.over }

// WriteFrame forwards pcm to the destination unless the gate is held.
func (g *Gate) WriteFrame(pcm []int16) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held.Load() > 0 {
		return nil
	}
	return g.write(pcm)
}

// write sends pcm to the destination; the caller holds mu.
func (g *Gate) write(pcm []int16) error {
	if t := g.target.Load(); t.sink != nil {
		return t.sink.WriteFrame(pcm)
	}
	return nil
}

// Takes reports whether WritePayload would forward codec now: the gate
// is open and the destination takes it. It takes no lock.
func (g *Gate) Takes(codec Codec) bool {
	t := g.target.Load()
	return g.held.Load() == 0 && t.payload != nil && t.payload.Takes(codec)
}

// WritePayload forwards an encoded frame when the destination is a
// PayloadSink and the gate is not held; otherwise it returns false and
// the caller decodes (and WriteFrame drops the frame while held).
func (g *Gate) WritePayload(codec Codec, payload []byte) (bool, error) {
	if !g.Takes(codec) {
		return false, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	t := g.target.Load()
	if g.held.Load() > 0 || t.payload == nil {
		return false, nil
	}
	return t.payload.WritePayload(codec, payload)
}

// Rate returns the destination's rate (0 without a destination).
func (g *Gate) Rate() int {
	if t := g.target.Load(); t.sink != nil {
		return t.sink.Rate()
	}
	return 0
}

// String names the stage, e.g. "gate -> RTP(pt=0)".
func (g *Gate) String() string { return "gate -> " + g.targetString() }

func (g *Gate) targetString() string {
	if t := g.target.Load(); t.sink != nil {
		return t.sink.String()
	}
	return "nil"
}

// gateOverride is the Sink returned by Gate.Override.
type gateOverride struct {
	g *Gate
}

func (o *gateOverride) WriteFrame(pcm []int16) error {
	o.g.mu.Lock()
	defer o.g.mu.Unlock()
	return o.g.write(pcm)
}

func (o *gateOverride) Rate() int { return o.g.Rate() }

func (o *gateOverride) String() string { return "gate(override) -> " + o.g.targetString() }
