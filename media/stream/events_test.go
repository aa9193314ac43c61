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
