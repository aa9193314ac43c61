package rtpep

import (
	"fmt"
	"time"

	"github.com/softswitch/softswitch/media"
)

// dtmfMax is the longest digit sent; it fits the 16-bit duration field
// at 8000 Hz. At 48000 Hz the field holds about 1.36 s (maxEventAt).
const dtmfMax = 5 * time.Second

// maxEventAt is the longest event the 16-bit duration field holds at clock.
func maxEventAt(clock uint32) time.Duration {
	return 0xffff * time.Second / time.Duration(clock)
}

// SendDTMF queues digit ('0'-'9', '*', '#', 'A'-'D') to be sent as an
// RFC 4733 event lasting d (0 means 100 ms; clamped to 40 ms-5 s, 1.36 s
// with Opus, whose events use its 48 kHz clock) and
// returns at once; queued digits play in order. While an event plays,
// audio written to AudioSink is suppressed. It fails with
// ErrNoTelephoneEvent when the peer did not negotiate telephone-event.
func (e *Endpoint) SendDTMF(digit rune, d time.Duration) error {
	ev, ok := media.DigitToEvent(digit)
	if !ok {
		return fmt.Errorf("send dtmf %q: %w", digit, ErrBadDigit)
	}
	if e.closed.Load() {
		return fmt.Errorf("send dtmf: %w", ErrClosed)
	}
	e.tx.mu.Lock()
	te, clock := e.tx.te, e.tx.clock
	e.tx.mu.Unlock()
	if te < 0 {
		return fmt.Errorf("send dtmf: %w", ErrNoTelephoneEvent)
	}
	d = min(d, maxEventAt(clock))
	if !e.dtmf.Enqueue(ev, d) {
		return fmt.Errorf("send dtmf: %w", ErrDTMFQueueFull)
	}
	return nil
}

// dtmfTrack is the endpoint's sending side as a media.DTMFTrack.
type dtmfTrack struct{ e *Endpoint }

func (t dtmfTrack) StartEvent() (uint32, uint32, bool) {
	return t.e.startEvent()
}
func (t dtmfTrack) SendEvent(ev media.DTMFEvent, ts uint32, marker bool) {
	t.e.sendEvent(ev, ts, marker)
}
func (t dtmfTrack) EndEvent(ts uint32) { t.e.endEvent(ts) }

// startEvent suppresses audio and returns the event's timestamp, the
// current position of the audio clock, and that clock's rate.
func (e *Endpoint) startEvent() (ts, clock uint32, ok bool) {
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on || t.te < 0 {
		return 0, 0, false
	}
	now := e.since()
	t.advance(now)
	t.inEvent, t.eventStart = true, now
	return t.ts, t.clock, true
}

// endEvent resumes audio with the clock moved past the event.
func (e *Endpoint) endEvent(evTS uint32) {
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	now := e.since()
	frames := uint32((now - t.eventStart + media.FrameDuration - 1) / media.FrameDuration)
	t.ts = evTS + frames*t.step
	t.last, t.inEvent = now, false
}

func (e *Endpoint) sendEvent(ev media.DTMFEvent, evTS uint32, marker bool) {
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on || t.te < 0 {
		return
	}
	n := ev.Marshal(t.buf[rtpHdrSize:])
	if err := e.send(uint8(t.te), evTS, marker, n); err != nil {
		e.log.Debug("send dtmf", "err", err)
	}
}
