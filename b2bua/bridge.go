package b2bua

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/recording"
)

// digitDuration is how long a relayed digit plays when its length is unknown.
const digitDuration = 100 * time.Millisecond

// Bridge rings every target in parallel, each on all its branches (every
// registered device of an extension); the first branch to answer is joined
// to the caller, the others are cancelled. It returns once the bridge ends
// (ok=true), or with ok=false and the best reason when nobody answered.
func (c *Call) Bridge(ctx context.Context, targets []string, o dialplan.BridgeOptions) (bool, string, error) {
	if err := c.gone(ctx); err != nil {
		return false, "", err
	}
	if len(targets) == 0 {
		return false, "", errors.New("bridge: no target")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = c.e.cfg.RingTimeout
	}
	dctx, cancelDial := context.WithTimeout(ctx, timeout)
	defer cancelDial()
	// The CDR names what was dialled, also when nobody answers in time.
	c.setTarget(strings.Join(targets, ","), "")
	if o.Record && c.recPath == "" {
		if _, err := c.RecordCall(ctx, ""); err != nil {
			c.log.Warn("bridge: cannot record", "error", err)
		}
	}

	progress := make(chan leg.Progress, 16)
	opts := leg.DialOptions{CallID: c.info.ID, Caller: c.presented.number, CallerName: c.presented.name,
		Trusted: c.info.Authenticated || c.info.Trunk != "", Source: c.info.Source,
		Video: videoOffered(c.a),
		OnProgress: func(p leg.Progress) {
			select {
			case progress <- p:
			default:
			}
		}}
	f := c.startFork(dctx, targets, opts)
	winner, early := c.ring(ctx, dctx, f, progress, timeout)
	cancelDial() // CANCEL the other branches
	c.e.hangUpLate(f)
	if early != nil {
		early.SetAudioOutput(discard{rate: early.AudioSink().Rate()})
	}
	if winner == nil {
		if err := c.gone(ctx); err != nil {
			return false, "", err
		}
		return false, bestCause(f.causes).Name, nil
	}
	b := winner.l
	c.setTarget(winner.target, b.Codec())
	c.acceptVideo(ctx, b)
	if err := c.Answer(ctx); err != nil {
		hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Hangup(hctx, leg.Normal)
		return false, "", err
	}
	return c.bridged(ctx, b)
}

// onProgress relays a provisional answer of leg B to the caller: 180 as
// ringing, 183 with SDP as early media bridged to the caller.
func (c *Call) onProgress(ctx context.Context, p leg.Progress, early *media.Endpoint) {
	if p.Early == nil {
		if p.Code == 180 || p.Code == 183 {
			_ = c.Ring(ctx)
		}
		return
	}
	if *early == nil {
		if err := c.earlyMedia(ctx); err != nil {
			c.log.Warn("early media to the caller failed", "error", err)
			return
		}
	}
	if *early != p.Early {
		if *early != nil {
			(*early).SetAudioOutput(discard{rate: (*early).AudioSink().Rate()})
		}
		*early = p.Early
		matchRates(c.a, p.Early)
		link(p.Early, c.gateA)
	}
}

// bridged joins leg A and leg B until one of them hangs up; a transfer
// (REFER from leg B) replaces leg B and the bridge goes on. A recording
// armed by call:record_call runs for the whole of it.
func (c *Call) bridged(ctx context.Context, b leg.Leg) (bool, string, error) {
	c.startRecording()
	defer c.stopRecording()
	c.mu.Lock()
	target := c.cdr.Target
	c.mu.Unlock()
	for {
		out, ok, reason, err := c.bridgeLegs(ctx, b, target)
		if out.next == nil {
			return ok, reason, err
		}
		b, target = out.next, out.target
	}
}

// bridgeLegs joins leg A and b until one of them hangs up or b transfers
// the call (out.next is then the leg to bridge to next).
func (c *Call) bridgeLegs(ctx context.Context, b leg.Leg, target string) (out transferOutcome, ok bool, reason string, err error) {
	matchRates(c.a, b)
	gateB := media.NewGate(b.AudioSink())
	// A recording taps each side in front of its gate: what each party
	// says, not what the other hears (no music on hold, no prompts).
	sinkB, sinkA := c.tap(recording.Left, gateB), c.tap(recording.Right, c.gateA)
	link(c.a, sinkB)
	link(b, sinkA)
	defer relayVideo(c.a, b)()
	c.log.Info("bridged", "codec_a", c.a.Codec(), "codec_b", b.Codec())
	handedOver := false // b belongs to another call now: not to be touched
	c.setBridging(true)
	defer func() {
		c.setBridging(false)
		if handedOver {
			c.log.Info("bridge ended: the callee was handed over to an attended transfer")
			return
		}
		// The media path as it ran: tests and operators read what was
		// transcoded, resampled or passed through.
		c.log.Info("bridge ended", "media_a_to_b", pipeline(c.a, sinkB), "media_b_to_a", pipeline(b, sinkA))
		c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
	}()
	// Music on hold: to A while B holds, to B while A holds.
	toA, toB := &onHold{c: c, gate: c.gateA, held: "caller"}, &onHold{c: c, gate: gateB, held: "callee"}
	defer func() { toA.set(ctx, false); toB.set(ctx, false) }()
	toB.set(ctx, c.aHeld.Load())
	for {
		select {
		case <-c.holdA:
			toB.set(ctx, c.aHeld.Load())
		case ev, ok := <-b.Events():
			if !ok {
				c.hangupA(leg.Normal, "callee")
				return out, true, "", nil
			}
			switch ev.Kind {
			case leg.EventHangup:
				cause := ev.Cause
				if cause.Name == "" {
					cause = leg.Normal
				}
				c.hangupA(cause, "callee")
				return out, true, "", nil
			case leg.EventMediaTimeout:
				c.log.Warn("no media from the callee: ending the call")
				// The caller first: a callee that went silent has likely
				// vanished, and its BYE may wait out its whole timeout.
				c.hangupA(leg.MediaTimeout, "system")
				hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = b.Hangup(hctx, leg.MediaTimeout)
				cancel()
				return out, true, "", nil
			case leg.EventRefer:
				if ev.Refer == nil {
					continue
				}
				stopMusic(toA, toB) // the ringback of the transfer plays instead
				out = c.transferCallee(ctx, ev.Refer, b, target)
				if out.ended {
					return transferOutcome{}, true, "", c.gone(ctx)
				}
				return out, true, "", nil
			case leg.EventHold, leg.EventResume:
				toA.set(ctx, ev.Kind == leg.EventHold)
			case leg.EventDTMF:
				if err := c.a.SendDTMF(ev.Digit, orDefault(ev.Duration)); err != nil {
					c.log.Debug("relaying digit to the caller failed", "error", err)
				}
			}
		case r := <-c.refers:
			stopMusic(toA, toB)
			out = c.transferCaller(ctx, r, b, target, gateB)
			if out.ended {
				return transferOutcome{}, true, "", c.gone(ctx)
			}
			return out, true, "", nil
		case req := <-c.handover:
			if handedOver = c.handOver(req, b, target); handedOver {
				return transferOutcome{}, true, "", nil
			}
		case d := <-c.digits:
			if err := b.SendDTMF(d, digitDuration); err != nil {
				c.log.Debug("relaying digit to the callee failed", "error", err)
			}
		case <-ctx.Done():
			hctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = b.Hangup(hctx, leg.Normal)
			cancel()
			return out, true, "", c.gone(ctx)
		}
	}
}

func (c *Call) setTarget(target, codec string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cdr.Target, c.cdr.CodecB = target, codec
}

// audioSource is what link and matchRates need of a leg or an endpoint.
type audioSource interface {
	AudioSink() media.Sink
	SetAudioOutput(media.Sink)
	SetRate(rate int) error
}

// pipeline describes src's received audio flowing into dst.
func pipeline(src any, dst media.Sink) string {
	from := "?"
	if st, ok := src.(fmt.Stringer); ok {
		from = st.String()
	}
	return from + " -> " + dst.String()
}

// matchRates lets the side with the higher PCM rate run at the other's
// (Opus at 8 kHz facing G.711), so that no resampler sits on the media
// path; when it cannot, link resamples.
func matchRates(a, b audioSource) {
	ra, rb := a.AudioSink().Rate(), b.AudioSink().Rate()
	hi, lo := a, rb
	if rb > ra {
		hi, lo = b, ra
	}
	if ra == rb {
		return
	}
	_ = hi.SetRate(lo)
}

// link sends src's received audio into dst, adapting the rate if needed.
func link(src audioSource, dst media.Sink) {
	src.SetAudioOutput(media.NewRateAdapter(dst, src.AudioSink().Rate()))
}

// bestCause picks the reason a dialplan (and so the caller) gets when
// every branch of a bridge failed, the way FreeSWITCH ranks them: a user's
// own answer (busy, declined) beats the network's (no answer, timeout,
// unavailable, not found); among causes of equal rank the first wins. It
// is the only ranking: devices of one extension and targets of one bridge
// are ranked together.
func bestCause(causes []leg.Cause) leg.Cause {
	rank := map[string]int{"busy": 8, "declined": 7, "no-answer": 6, "timeout": 5, "unavailable": 4, "incompatible": 3, "not-found": 2, "congestion": 1}
	best := leg.Unavailable
	bestRank := -1
	for _, c := range causes {
		if r := rank[c.Name]; r > bestRank {
			best, bestRank = c, r
		}
	}
	return best
}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return digitDuration
	}
	return d
}

// discard is the sink of a leg that has nobody to talk to.
type discard struct{ rate int }

func (d discard) WriteFrame([]int16) error { return nil }
func (d discard) Rate() int                { return d.rate }
func (d discard) String() string           { return "discard" }
