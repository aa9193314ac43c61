package media

import (
	"sync"
	"testing"
	"time"
)

// fakeDTMFTrack records the events a DTMFSender sends.
type fakeDTMFTrack struct {
	mu     sync.Mutex
	sent   []DTMFEvent
	starts int
	ends   int
}

func (f *fakeDTMFTrack) StartEvent() (uint32, uint32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	return uint32(1000 * f.starts), 8000, true
}

func (f *fakeDTMFTrack) SendEvent(ev DTMFEvent, ts uint32, marker bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, ev)
}

func (f *fakeDTMFTrack) EndEvent(uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ends++
}

// ended returns the events of the end packets sent so far, one per digit.
func (f *fakeDTMFTrack) ended() []uint8 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var digits []uint8
	for i, ev := range f.sent {
		if ev.End && (i == 0 || !f.sent[i-1].End) {
			digits = append(digits, ev.Event)
		}
	}
	return digits
}

func (s *DTMFSender) isRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// waitFor polls cond for up to 10 s (generous for a loaded machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The sender's goroutine runs only while it has digits to play: none
// before the first digit, none once the queue is played, and a new one
// for the next digit. Digits are played in order, each with its end
// packets.
func TestDTMFSenderRunsOnlyWhileSending(t *testing.T) {
	t.Parallel()
	track := &fakeDTMFTrack{}
	var sent sync.WaitGroup
	sent.Add(3)
	s := NewDTMFSender(track, time.Second, 4, sent.Done)
	defer s.Close()
	if s.isRunning() {
		t.Fatal("a goroutine runs before any digit")
	}
	if !s.Enqueue(1, DTMFMin) || !s.Enqueue(2, DTMFMin) {
		t.Fatal("Enqueue refused a digit on an empty queue")
	}
	waitFor(t, "two digits played and the goroutine gone", func() bool {
		return len(track.ended()) == 2 && !s.isRunning()
	})
	if !s.Enqueue(3, DTMFMin) {
		t.Fatal("Enqueue refused a digit after the queue emptied")
	}
	sent.Wait()
	waitFor(t, "the goroutine gone after the third digit", func() bool { return !s.isRunning() })
	if got := track.ended(); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("digits ended = %v, want [1 2 3]", got)
	}
	if track.starts != 3 || track.ends != 3 {
		t.Errorf("StartEvent %d, EndEvent %d times, want 3 each", track.starts, track.ends)
	}
}

// Close cuts a long digit short, waits for the goroutine, and the sender
// takes no digits after it.
func TestDTMFSenderClose(t *testing.T) {
	t.Parallel()
	track := &fakeDTMFTrack{}
	s := NewDTMFSender(track, time.Hour, 4, nil)
	if !s.Enqueue(5, time.Hour) {
		t.Fatal("Enqueue refused a digit")
	}
	waitFor(t, "the digit started", func() bool {
		track.mu.Lock()
		defer track.mu.Unlock()
		return len(track.sent) > 0
	})
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a digit played")
	}
	if track.ends != 1 {
		t.Errorf("EndEvent %d times, want 1 (audio resumes after a cut digit)", track.ends)
	}
	if s.Enqueue(6, 0) {
		t.Error("Enqueue took a digit after Close")
	}
	s.Close() // twice is harmless
}
