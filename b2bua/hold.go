package b2bua

import (
	"context"

	"github.com/softswitch/softswitch/media"
)

// DefaultMOH is the prompt played on hold when Config.MOH is empty: the
// bundled music (sounds/moh.wav).
const DefaultMOH = "moh"

// MOHOff in Config.MOH turns music on hold off: the held party hears
// whatever the holding side sends, usually nothing.
const MOHOff = "off"

// onHold is one party of a bridge as the other holds it: music on hold
// plays into its gate while it is held.
type onHold struct {
	c     *Call
	gate  *media.Gate
	held  string // "caller" or "callee", for logs
	music *holdMusic
}

// set starts the music when held and none plays, and stops it when not.
func (h *onHold) set(ctx context.Context, held bool) {
	switch {
	case held && h.music == nil:
		h.music = h.c.startMOH(ctx, h.gate, h.held)
	case !held:
		h.music.stop()
		h.music = nil
	}
}

// stopMusic stops the music on hold of a bridge's parties: a transfer
// plays its ringback into the same gates, and two players on one gate
// would interleave their frames.
func stopMusic(parties ...*onHold) {
	for _, h := range parties {
		h.set(context.Background(), false)
	}
}

// holdMusic is music on hold playing into one leg's gate.
type holdMusic struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startMOH holds gate, so the held party no longer hears the holder, and
// plays the music on hold into it in a loop until stop. The music is the
// prompt store's shared audio at the leg's rate: each held party has its
// own cursor, never a copy. It returns nil when music on hold is off.
func (c *Call) startMOH(ctx context.Context, gate *media.Gate, held string) *holdMusic {
	name := c.e.cfg.MOH
	if name == MOHOff {
		c.log.Info("on hold, music on hold off", "held", held)
		return nil
	}
	if name == "" {
		name = DefaultMOH
	}
	c.log.Info("on hold: playing music on hold", "held", held, "moh", name)
	mctx, cancel := context.WithCancel(ctx)
	h := &holdMusic{cancel: cancel, done: make(chan struct{})}
	release := gate.Hold()
	sink := gate.Override()
	go func() {
		defer close(h.done)
		defer release()
		pl := media.NewPlayer(sink)
		for mctx.Err() == nil { // each round lasts the music's length
			p, err := c.e.prompts.Prompt(name, sink.Rate())
			if err != nil {
				c.log.Warn("music on hold cannot play", "moh", name, "error", err)
				return
			}
			if len(p.PCM) == 0 {
				c.log.Warn("music on hold is empty", "moh", name)
				return
			}
			if err := pl.Play(mctx, p); err != nil {
				if mctx.Err() == nil {
					c.log.Debug("music on hold stopped", "error", err)
				}
				return
			}
		}
	}()
	return h
}

// stop ends the music and reopens the gate; the held party hears the
// other side again. A nil holdMusic is fine.
func (h *holdMusic) stop() {
	if h == nil {
		return
	}
	h.cancel()
	<-h.done
}
