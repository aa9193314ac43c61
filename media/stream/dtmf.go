package stream

import (
	"errors"
	"fmt"
	"time"

	"github.com/softswitch/softswitch/media"
)

// dtmfMax is the longest digit sent; the 16-bit duration field bounds it
// further by the event clock (about 1.36 s at 48000 Hz).
const dtmfMax = 5 * time.Second

// Errors of SendDTMF; endpoints export them under their own names.
var (
	ErrBadDigit         = errors.New("stream: not a dtmf digit")
	ErrNoTelephoneEvent = errors.New("stream: peer did not negotiate telephone-event")
	ErrDTMFQueueFull    = errors.New("stream: dtmf queue full")
)

// maxEventAt is the longest event the 16-bit duration field holds at clock.
func maxEventAt(clock uint32) time.Duration {
	return 0xffff * time.Second / time.Duration(clock)
}

// SendDTMF queues digit ('0'-'9', '*', '#', 'A'-'D') to be sent as an
// RFC 4733 event lasting d (0 means 100 ms; clamped to 40 ms-5 s, and to
// what the event clock's 16-bit duration holds) on the negotiated
// telephone-event payload type, and returns at once; queued digits play
// in order. While an event plays, audio written to AudioSink is dropped.
func (s *Stream) SendDTMF(digit rune, d time.Duration) error {
	ev, ok := media.DigitToEvent(digit)
	if !ok {
		return fmt.Errorf("send dtmf %q: %w", digit, ErrBadDigit)
	}
	if s.closed.Load() {
		return fmt.Errorf("send dtmf: %w", s.errClosed)
	}
	snd := s.SendInfo()
	if snd.TE < 0 || snd.TEClock == 0 {
		return fmt.Errorf("send dtmf: %w", ErrNoTelephoneEvent)
	}
	if !s.dtmf.Enqueue(ev, min(d, maxEventAt(snd.TEClock))) {
		return fmt.Errorf("send dtmf: %w", ErrDTMFQueueFull)
	}
	return nil
}

// dtmfTrack is the stream's send side as a media.DTMFTrack.
type dtmfTrack struct{ s *Stream }

// StartEvent suppresses audio and returns the event's timestamp (the
// audio clock's position) and the telephone-event clock.
func (d dtmfTrack) StartEvent() (uint32, uint32, bool) {
	s := d.s
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on || t.send.TE < 0 || t.send.Codec == media.CodecNone {
		return 0, 0, false
	}
	now := s.since()
	t.advance(now)
	t.inEvent, t.eventStart = true, now
	return t.ts, t.send.TEClock, true
}

// SendEvent sends one event packet.
func (d dtmfTrack) SendEvent(ev media.DTMFEvent, evTS uint32, marker bool) {
	s := d.s
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on || t.send.TE < 0 {
		return
	}
	n := ev.Marshal(t.room(media.DTMFEventSize)[hdrSize:])
	s.sendPacket(uint8(t.send.TE), evTS, marker, n)
}

// EndEvent resumes audio with the clock moved past the event.
func (d dtmfTrack) EndEvent(evTS uint32) {
	s := d.s
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	now := s.since()
	frames := uint32((now - t.eventStart + media.FrameDuration - 1) / media.FrameDuration)
	t.ts = evTS + frames*(t.send.Codec.Clock()/50)
	t.last, t.inEvent = now, false
}
