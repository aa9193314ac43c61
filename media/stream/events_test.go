package stream

import (
	"testing"

	"github.com/softswitch/softswitch/media"
)

// TestEventHandler: an event queued before the handler is set is handed to
// it, in order, and later events go to it directly, not to Events.
func TestEventHandler(t *testing.T) {
	queued := newStream(t, Config{}, &wire{})
	queued.Fail("no ICE") // queued on Events: no handler yet
	var got []media.Event
	queued.SetEventHandler(func(ev media.Event) { got = append(got, ev) })
	if len(got) != 1 || got[0].Kind != media.EventTimeout {
		t.Fatalf("handler got %+v, want the queued timeout", got)
	}

	direct := newStream(t, Config{}, &wire{})
	var direct1 []media.Event
	direct.SetEventHandler(func(ev media.Event) { direct1 = append(direct1, ev) })
	direct.Fail("DTLS failed")
	if len(direct1) != 1 || direct1[0].Kind != media.EventTimeout {
		t.Fatalf("handler got %+v, want the timeout", direct1)
	}
	for _, s := range []*Stream{queued, direct} {
		select {
		case ev := <-s.Events():
			t.Fatalf("event %+v also queued on Events", ev)
		default:
		}
	}
}

// TestEventQueueMadeOnUse: a stream whose events go to a handler never
// makes its queue (memory per call); Events works before and after Close.
func TestEventQueueMadeOnUse(t *testing.T) {
	s := newStream(t, Config{}, &wire{})
	s.SetEventHandler(func(media.Event) {})
	s.Fail("no ICE")
	if s.events != nil {
		t.Fatal("the event queue was made for a stream with a handler")
	}
	s.Close()
	if _, ok := <-s.Events(); ok {
		t.Fatal("an event on the queue of a stream with a handler")
	}

	q := newStream(t, Config{}, &wire{})
	q.Fail("DTLS failed")
	q.Close()
	if ev, ok := <-q.Events(); !ok || ev.Kind != media.EventTimeout {
		t.Fatalf("got %+v (%v), want the queued timeout", ev, ok)
	}
	if _, ok := <-q.Events(); ok {
		t.Fatal("Events not closed by Close")
	}
}
