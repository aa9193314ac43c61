package sipleg

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media/rtpep"
)

// testCore is a leg core on a real RTP endpoint (its Close is what ending
// the leg stops).
func testCore(t *testing.T) *core {
	t.Helper()
	ep, err := rtpep.New(rtpep.Config{IP: "127.0.0.1"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ep.Close() })
	c := newCore(&Manager{}, "leg-1", ep, "udp", "127.0.0.1:5060", slog.New(slog.DiscardHandler))
	return &c
}

// recorder collects what a handler was given, and whether end ran after
// the last event.
type recorder struct {
	mu     sync.Mutex
	events []leg.EventKind
	ends   int
	late   int // events after end
}

func (r *recorder) handle(ev leg.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ends > 0 {
		r.late++
	}
	r.events = append(r.events, ev.Kind)
}

func (r *recorder) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ends++
}

func TestEventHandlerTakesQueuedThenLiveEvents(t *testing.T) {
	l := testCore(t)
	l.emit(leg.Event{Kind: leg.EventHold}) // before the handler: queued
	var r recorder
	l.SetEventHandler(r.handle, r.end)
	l.emit(leg.Event{Kind: leg.EventDTMF, Digit: '5'})
	if !l.emitRefer(leg.Event{Kind: leg.EventRefer, Refer: &leg.Refer{}}) {
		t.Fatal("a REFER given to the handler was reported refused")
	}
	l.peerHangup(leg.Normal)
	l.emit(leg.Event{Kind: leg.EventResume}) // after the end: dropped
	if l.emitRefer(leg.Event{Kind: leg.EventRefer, Refer: &leg.Refer{}}) {
		t.Fatal("a REFER after the leg ended was accepted")
	}
	l.finish() // again: end runs once
	r.mu.Lock()
	defer r.mu.Unlock()
	want := []leg.EventKind{leg.EventHold, leg.EventDTMF, leg.EventRefer, leg.EventHangup}
	if len(r.events) != len(want) {
		t.Fatalf("events %v, want %v", r.events, want)
	}
	for i := range want {
		if r.events[i] != want[i] {
			t.Fatalf("events %v, want %v", r.events, want)
		}
	}
	if r.ends != 1 || r.late != 0 {
		t.Fatalf("end called %d times, %d events after it; want once, none", r.ends, r.late)
	}
	if len(l.Events()) != 0 {
		t.Fatalf("%d events left on the queue", len(l.Events()))
	}
}

func TestEventHandlerSetAfterTheLegEnded(t *testing.T) {
	l := testCore(t)
	l.peerHangup(leg.Busy)
	var r recorder
	l.SetEventHandler(r.handle, r.end)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) != 1 || r.events[0] != leg.EventHangup || r.ends != 1 {
		t.Fatalf("events %v, end called %d times; want the hangup then end once", r.events, r.ends)
	}
}

// Events from several goroutines racing the leg's end: each is delivered
// whole before end or not at all (run under -race).
func TestEventHandlerRacesTheEnd(t *testing.T) {
	for range 20 {
		l := testCore(t)
		var r recorder
		l.SetEventHandler(r.handle, r.end)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					l.emit(leg.Event{Kind: leg.EventDTMF, Digit: '1'})
				}
			})
		}
		wg.Go(func() { l.peerHangup(leg.Normal) })
		wg.Wait()
		r.mu.Lock()
		if r.ends != 1 || r.late != 0 {
			t.Fatalf("end called %d times, %d events after it", r.ends, r.late)
		}
		r.mu.Unlock()
	}
}

// A leg whose events all go to a handler never makes its queue (its
// memory is per call); Events still works after the end: closed.
func TestEventHandlerLegHasNoQueue(t *testing.T) {
	l := testCore(t)
	var r recorder
	l.SetEventHandler(r.handle, r.end)
	l.emit(leg.Event{Kind: leg.EventDTMF, Digit: '7'})
	l.peerHangup(leg.Normal)
	if l.events != nil {
		t.Fatal("the event queue was made for a leg with a handler")
	}
	select {
	case _, ok := <-l.Events():
		if ok {
			t.Fatal("an event on the queue of a leg with a handler")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Events of an ended leg is not closed")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) != 2 || r.ends != 1 {
		t.Fatalf("events %v, end called %d times; want DTMF and hangup, then end once", r.events, r.ends)
	}
}
