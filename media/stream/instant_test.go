package stream

import (
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
)

// TestFirstRTPTimes: a stream notes when it accepted its first packet
// from the peer and sent its first one, and keeps those moments.
func TestFirstRTPTimes(t *testing.T) {
	browser, _, phone := transcodedCall(t)
	if st := browser.Stats(); !st.FirstReceived.IsZero() || !st.FirstSent.IsZero() {
		t.Fatalf("before any packet: first received %v, sent %v", st.FirstReceived, st.FirstSent)
	}
	ph := newStream(t, Config{Name: "RTP"}, phone)
	ph.SetSend(Send{Codec: media.CodecPCMU, PT: 0, TE: -1})
	pkts := opusTone(t, 3, 1000)
	before := time.Now()
	deliver(t, browser, pkts, 0)
	if err := ph.AudioSink().WriteFrame(make([]int16, 160)); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	first := browser.Stats().FirstReceived
	if first.Before(before.Truncate(0)) || first.After(after) {
		t.Errorf("first received %v, not between %v and %v", first, before, after)
	}
	sent := ph.Stats().FirstSent
	if sent.Before(before.Truncate(0)) || sent.After(after) {
		t.Errorf("first sent %v, not between %v and %v", sent, before, after)
	}
	time.Sleep(2 * time.Millisecond)
	deliver(t, browser, pkts, 1)
	if err := ph.AudioSink().WriteFrame(make([]int16, 160)); err != nil {
		t.Fatal(err)
	}
	if st := browser.Stats(); !st.FirstReceived.Equal(first) || st.PacketsReceived != 2 {
		t.Errorf("a later packet moved the first received to %v (%d packets)", st.FirstReceived, st.PacketsReceived)
	}
	if st := ph.Stats(); !st.FirstSent.Equal(sent) || st.PacketsSent != 2 {
		t.Errorf("a later packet moved the first sent to %v (%d packets)", st.FirstSent, st.PacketsSent)
	}
	if st := browser.Stats(); !st.FailedAt.IsZero() || st.Failure != "" {
		t.Errorf("no timeout, yet failed at %v: %q", st.FailedAt, st.Failure)
	}
}

// TestFailureTime: the first RTP timeout is kept with its time and
// reason; a later failure does not replace it.
func TestFailureTime(t *testing.T) {
	s := newStream(t, Config{Timeout: time.Millisecond}, &wire{})
	var tbl PTTable
	tbl.SetCodec(111, media.CodecOpus)
	s.SetReceive(tbl)
	deliver(t, s, opusTone(t, 1, 1000), 0)
	time.Sleep(3 * time.Millisecond)
	before := time.Now()
	s.Wake()
	st := s.Stats()
	if st.Failure != "no RTP for 1ms" || st.FailedAt.Before(before.Truncate(0)) || st.FailedAt.After(time.Now()) {
		t.Fatalf("after the timeout: failed at %v (since %v), %q", st.FailedAt, before, st.Failure)
	}
	s.Fail("dtls failed: bad certificate")
	if st2 := s.Stats(); st2.Failure != st.Failure || !st2.FailedAt.Equal(st.FailedAt) {
		t.Errorf("a later failure replaced the first: %v %q", st2.FailedAt, st2.Failure)
	}

	f := newStream(t, Config{}, &wire{})
	f.Fail("dtls failed: bad certificate")
	if st := f.Stats(); st.Failure != "dtls failed: bad certificate" || st.FailedAt.IsZero() {
		t.Errorf("failed stream: %v %q", st.FailedAt, st.Failure)
	}
}

// TestInstantMarkNoAllocs: marking an instant already set allocates
// nothing (the per-packet case).
func TestInstantMarkNoAllocs(t *testing.T) {
	var i Instant
	i.Mark()
	first := i.Time()
	if n := testing.AllocsPerRun(100, i.Mark); n != 0 {
		t.Errorf("Mark: %v allocs", n)
	}
	if !i.Time().Equal(first) || first.IsZero() {
		t.Errorf("instant moved from %v to %v", first, i.Time())
	}
}
