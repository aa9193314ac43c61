package rtpep

import (
	"fmt"
	"time"

	"github.com/softswitch/softswitch/media"
)

// DTMF sending (RFC 4733 §2.5.1).
const (
	dtmfDefault   = 100 * time.Millisecond
	dtmfMin       = 40 * time.Millisecond
	dtmfMax       = 5 * time.Second // fits the 16-bit duration at 8000 Hz
	dtmfUpdate    = 50 * time.Millisecond
	dtmfEndRepeat = 3
	dtmfEndGap    = 20 * time.Millisecond
	dtmfPause     = 50 * time.Millisecond // between queued digits
	dtmfVolume    = 10                    // -10 dBm0
)

type dtmfRequest struct {
	event uint8
	d     time.Duration
}

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
	if d == 0 {
		d = dtmfDefault
	}
	d = max(dtmfMin, min(d, dtmfMax))
	select {
	case e.dtmfQ <- dtmfRequest{event: ev, d: d}:
		return nil
	default:
		return fmt.Errorf("send dtmf: %w", ErrDTMFQueueFull)
	}
}

func (e *Endpoint) dtmfLoop() {
	defer e.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	wait := func(until time.Time) bool {
		timer.Reset(time.Until(until))
		select {
		case <-e.done:
			return false
		case <-timer.C:
			return true
		}
	}
	for {
		select {
		case <-e.done:
			return
		case r := <-e.dtmfQ:
			if !e.playDTMF(r, wait) || !wait(time.Now().Add(dtmfPause)) {
				return
			}
		}
	}
}

// playDTMF sends one event: a first packet with the marker bit, an update
// every 50 ms, and three end packets, all with the timestamp of the
// event's start. It returns false when the endpoint closed meanwhile.
func (e *Endpoint) playDTMF(r dtmfRequest, wait func(time.Time) bool) bool {
	start := time.Now()
	evTS, ok := e.startEvent()
	if !ok {
		return true
	}
	defer e.endEvent(evTS)
	ev := media.DTMFEvent{Event: r.event, Volume: dtmfVolume}
	for k := time.Duration(0); k*dtmfUpdate < r.d; k++ {
		if k > 0 && !wait(start.Add(k*dtmfUpdate)) {
			return false
		}
		ev.Duration = samples(min((k+1)*dtmfUpdate, r.d))
		e.sendEvent(ev, evTS, k == 0)
	}
	ev.End, ev.Duration = true, samples(r.d)
	for i := range time.Duration(dtmfEndRepeat) {
		if !wait(start.Add(r.d + i*dtmfEndGap)) {
			return false
		}
		e.sendEvent(ev, evTS, false)
	}
	e.stats.dtmfSent.Add(1)
	return true
}

func samples(d time.Duration) uint16 {
	return uint16(min(d*clockRate/time.Second, 0xffff))
}

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
