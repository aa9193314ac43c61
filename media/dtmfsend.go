package media

import (
	"sync"
	"time"
)

// RFC 4733 §2.5.1 sending schedule.
const (
	DTMFDefault   = 100 * time.Millisecond // a digit's length when none is given
	DTMFMin       = 40 * time.Millisecond
	dtmfUpdate    = 50 * time.Millisecond // an update packet every 50 ms
	dtmfEndRepeat = 3                     // the end packet, three times
	dtmfEndGap    = 20 * time.Millisecond
	dtmfPause     = 50 * time.Millisecond // between queued digits
	// DTMFVolume is the power level sent in events: -10 dBm0.
	DTMFVolume = 10
)

// DTMFTrack is what a DTMFSender needs of an endpoint's sending side.
type DTMFTrack interface {
	// StartEvent suppresses audio and returns the event's RTP timestamp
	// and the telephone-event clock rate; ok is false when no event can be
	// sent now (nothing negotiated, not sending).
	StartEvent() (ts uint32, clock uint32, ok bool)
	// SendEvent sends one event packet with the event's timestamp.
	SendEvent(ev DTMFEvent, ts uint32, marker bool)
	// EndEvent resumes audio with the clock moved past the event.
	EndEvent(ts uint32)
}

type dtmfRequest struct {
	event uint8
	d     time.Duration
}

// DTMFSender queues digits and plays each as an RFC 4733 event on a
// DTMFTrack: a first packet with the marker bit, an update every 50 ms,
// then three end packets, all carrying the timestamp of the event's start.
//
// Its goroutine runs only while digits are queued or playing: most calls
// send none, and an idle goroutine per stream was two per relayed call.
type DTMFSender struct {
	track  DTMFTrack
	max    time.Duration
	queue  int
	q      chan dtmfRequest // made by the first Enqueue (most calls send no digit), under mu
	onSent func()
	done   chan struct{} // closed by Close

	mu      sync.Mutex
	running bool // a goroutine plays the queue
	closed  bool
	wg      sync.WaitGroup
}

// NewDTMFSender returns a sender holding up to queue digits; digits are
// clamped to DTMFMin..max (the 16-bit duration field bounds max by the
// event clock). onSent, if set, is called after each digit. The caller
// must Close it.
func NewDTMFSender(track DTMFTrack, max time.Duration, queue int, onSent func()) *DTMFSender {
	return &DTMFSender{track: track, max: max, queue: queue, onSent: onSent, done: make(chan struct{})}
}

// Enqueue queues event for d (0 means DTMFDefault); false when the queue
// is full or the sender closed.
func (s *DTMFSender) Enqueue(event uint8, d time.Duration) bool {
	if d == 0 {
		d = DTMFDefault
	}
	d = max(DTMFMin, min(d, s.max))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.q == nil {
		s.q = make(chan dtmfRequest, s.queue)
	}
	select {
	case s.q <- dtmfRequest{event: event, d: d}:
	default:
		return false
	}
	if !s.running {
		s.running = true
		s.wg.Add(1)
		go s.run()
	}
	return true
}

// Close stops playing (a digit being played is cut short) and waits for
// the sender's goroutine.
func (s *DTMFSender) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// run plays queued digits in order, with a pause between two, and
// returns once the queue is empty or the sender closed.
func (s *DTMFSender) run() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	wait := func(until time.Time) bool {
		timer.Reset(time.Until(until))
		select {
		case <-s.done:
			return false
		case <-timer.C:
			return true
		}
	}
	for {
		select {
		case <-s.done:
			return
		case r := <-s.q:
			if !s.play(r, wait) || !wait(time.Now().Add(dtmfPause)) {
				return
			}
		default:
			s.mu.Lock()
			idle := len(s.q) == 0
			if idle {
				s.running = false
			}
			s.mu.Unlock()
			if idle {
				return
			}
		}
	}
}

// play sends one event; false when done closed meanwhile.
func (s *DTMFSender) play(r dtmfRequest, wait func(time.Time) bool) bool {
	start := time.Now()
	evTS, clock, ok := s.track.StartEvent()
	if !ok {
		return true
	}
	defer s.track.EndEvent(evTS)
	ev := DTMFEvent{Event: r.event, Volume: DTMFVolume}
	for k := time.Duration(0); k*dtmfUpdate < r.d; k++ {
		if k > 0 && !wait(start.Add(k*dtmfUpdate)) {
			return false
		}
		ev.Duration = DTMFTicks(min((k+1)*dtmfUpdate, r.d), clock)
		s.track.SendEvent(ev, evTS, k == 0)
	}
	ev.End, ev.Duration = true, DTMFTicks(r.d, clock)
	for i := range time.Duration(dtmfEndRepeat) {
		if !wait(start.Add(r.d + i*dtmfEndGap)) {
			return false
		}
		s.track.SendEvent(ev, evTS, false)
	}
	if s.onSent != nil {
		s.onSent()
	}
	return true
}

// DTMFTicks converts a duration to the event clock, saturating at the
// 16-bit field's maximum.
func DTMFTicks(d time.Duration, clock uint32) uint16 {
	return uint16(min(d*time.Duration(clock)/time.Second, 0xffff))
}
