package rtpep

import (
	"fmt"
	"time"

	"github.com/softswitch/softswitch/media"
)

// dtmfMax fits the 16-bit duration field at 8000 Hz.
const dtmfMax = 5 * time.Second

// SendDTMF queues digit ('0'-'9', '*', '#', 'A'-'D') to be sent as an
// RFC 4733 event lasting d (0 means 100 ms; clamped to 40 ms-5 s) and
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
	te := e.tx.te
	e.tx.mu.Unlock()
	if te < 0 {
		return fmt.Errorf("send dtmf: %w", ErrNoTelephoneEvent)
	}
	if !e.dtmf.Enqueue(ev, d) {
		return fmt.Errorf("send dtmf: %w", ErrDTMFQueueFull)
	}
	return nil
}

// dtmfTrack is the endpoint's sending side as a media.DTMFTrack.
type dtmfTrack struct{ e *Endpoint }

func (t dtmfTrack) StartEvent() (uint32, uint32, bool) {
	ts, ok := t.e.startEvent()
	return ts, clockRate, ok
}
func (t dtmfTrack) SendEvent(ev media.DTMFEvent, ts uint32, marker bool) {
	t.e.sendEvent(ev, ts, marker)
}
func (t dtmfTrack) EndEvent(ts uint32) { t.e.endEvent(ts) }

// startEvent suppresses audio and returns the event's timestamp: the
// current position of the audio clock.
func (e *Endpoint) startEvent() (uint32, bool) {
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on || t.te < 0 {
		return 0, false
	}
	now := e.since()
	t.advance(now)
	t.inEvent, t.eventStart = true, now
	return t.ts, true
}

// endEvent resumes audio with the clock moved past the event.
func (e *Endpoint) endEvent(evTS uint32) {
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	now := e.since()
	frames := uint32((now - t.eventStart + media.FrameDuration - 1) / media.FrameDuration)
	t.ts = evTS + frames*frameSize
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
