package stream

import (
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/softswitch/softswitch/media"
)

// Packets 20 ms apart in RTP time arriving every 20 ms have no jitter;
// arrivals alternately 5 ms early and late (each transit 10 ms from the
// last) converge on RFC 3550's J = 10 ms; a clock change and a timestamp
// jump start afresh rather than count as jitter.
func TestInterarrivalJitter(t *testing.T) {
	var q quality
	at := time.Duration(123456789) // any epoch
	for i := range 100 {
		q.audio(uint32(1000+160*i), 8000, at+time.Duration(i)*20*time.Millisecond)
	}
	if j := q.jitterNs.Load(); j != 0 {
		t.Fatalf("steady arrivals: jitter %v", time.Duration(j))
	}
	for i := 100; i < 400; i++ {
		off := 5 * time.Millisecond
		if i%2 == 0 {
			off = -off
		}
		q.audio(uint32(1000+160*i), 8000, at+time.Duration(i)*20*time.Millisecond+off)
	}
	if j := time.Duration(q.jitterNs.Load()); j < 9500*time.Microsecond || j > 10500*time.Microsecond {
		t.Fatalf("±5 ms arrivals: jitter %v, want 10 ms", j)
	}
	before := q.jitterNs.Load()
	ts := uint32(0xfffffff0)
	q.audio(ts, 48000, at+8*time.Second) // Opus now: a new clock, no jitter sample
	q.audio(ts+960, 48000, at+8*time.Second+20*time.Millisecond)
	q.audio(ts+960+30*48000, 48000, at+8*time.Second+40*time.Millisecond) // a 30 s timestamp jump (and a wrap)
	if q.jitterNs.Load() > before {
		t.Fatalf("a clock change or timestamp jump raised the jitter: %v -> %v", time.Duration(before), time.Duration(q.jitterNs.Load()))
	}
}

// Loss counts what the sequence numbers say never came: across their
// wrap, with duplicates and reordering, and over a change of source.
func TestSequenceLoss(t *testing.T) {
	var q quality
	for i := range 100 {
		if i%10 == 3 { // 10 lost
			continue
		}
		q.seq(uint16(65500 + i)) // wraps at 36
	}
	base := uint16(65500)
	q.seq(base + 50) // a duplicate
	if e, g := q.expected.Load(), q.got.Load(); e != 100 || g != 91 {
		t.Fatalf("expected %d, got %d; want 100, 91", e, g)
	}
	q.seq(base + 103) // reordered: 100..102 arrive after
	q.seq(base + 100)
	q.restart() // a new source: 104 expected so far, 93 received
	q.seq(7)
	q.seq(9)
	if e, g := q.expected.Load(), q.got.Load(); e != 104+3 || g != 93+2 {
		t.Fatalf("after a new source: expected %d, got %d; want 107, 95", e, g)
	}
	q.seq(9 + maxDropout + 1) // a jump: a new sequence space, not 3000 lost
	if e := q.expected.Load(); e != 107+1 {
		t.Fatalf("after a jump: expected %d, want 108", e)
	}
}

// The stream counts loss from what arrives (relayed or decoded): two of
// 50 packets lost, one pair swapped.
func TestStreamLossPercent(t *testing.T) {
	browser, _, _ := transcodedCall(t)
	pkts := opusTone(t, 50, 1000)
	for i := range 50 {
		if i != 10 && i != 30 {
			deliver(t, browser, pkts, i)
		}
	}
	st := browser.Stats()
	if st.Expected != 50 || st.Missing != 2 || st.LossPercent() != 4 {
		t.Fatalf("expected %d, missing %d, loss %.1f %%; want 50, 2, 4 %%", st.Expected, st.Missing, st.LossPercent())
	}
	if st.RTT != 0 {
		t.Fatalf("an RTT before any report: %v", st.RTT)
	}
}

// The round trip is the report's arrival less our sender report's time
// (LSR) less the peer's delay (DLSR).
func TestRoundTripFromReport(t *testing.T) {
	s := newStream(t, Config{Name: "RTP", Rate: 8000}, &wire{})
	s.SetSend(Send{Codec: media.CodecPCMU, PT: 0, TE: -1})
	sent := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	lsr := uint32(ntpTime(sent) >> 16)
	report := func(ssrc, lsr, dlsr uint32, at time.Time) {
		b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 9,
			Reports: []rtcp.ReceptionReport{{SSRC: ssrc, LastSenderReport: lsr, Delay: dlsr}}}})
		if err != nil {
			t.Fatal(err)
		}
		s.receiveRTCP(b, at)
	}
	report(s.SSRC(), 0, 0, sent.Add(time.Second)) // no LSR: no round trip
	report(s.SSRC()+1, lsr, 0, sent.Add(time.Second))
	if rtt := s.Stats().RTT; rtt != 0 {
		t.Fatalf("RTT %v from reports without an LSR or about another stream", rtt)
	}
	report(s.SSRC(), lsr, 3*65536/2, sent.Add(1550*time.Millisecond)) // held 1.5 s, arrived 1.55 s after
	if rtt := s.Stats().RTT; rtt < 49*time.Millisecond || rtt > 51*time.Millisecond {
		t.Fatalf("RTT %v, want 50 ms", rtt)
	}
	report(s.SSRC(), lsr, 2*65536, sent.Add(time.Second)) // a delay longer than the time since: not a round trip
	if rtt := s.Stats().RTT; rtt < 49*time.Millisecond || rtt > 51*time.Millisecond {
		t.Fatalf("a negative round trip replaced the last: %v", rtt)
	}
	if st := s.Stats(); st.Reports != 3 || st.ReportsTimed != 1 {
		t.Fatalf("%d reports about us, %d timed; want 3 (the other stream's not counted), 1", st.Reports, st.ReportsTimed)
	}
	if rt, ok := roundTrip(lsr, 0, sent.Add(time.Hour+time.Millisecond)); !ok || rt < time.Hour || rt > time.Hour+2*time.Millisecond {
		t.Fatalf("roundTrip after an hour = %v, %v", rt, ok)
	}
}
