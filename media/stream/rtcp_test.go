package stream

import (
	"testing"

	"github.com/pion/rtcp"

	"github.com/softswitch/softswitch/media"
)

// TestFECFollowsPeerLoss: the Opus encoder facing a peer adds in-band FEC
// (and the bitrate to carry it) only while the peer's receiver reports
// say it loses packets.
func TestFECFollowsPeerLoss(t *testing.T) {
	w := &wire{}
	s := newStream(t, Config{Name: "SRTP", Rate: 8000}, w)
	s.SetSend(Send{Codec: media.CodecOpus, PT: 111, TE: -1})
	pcm := make([]int16, 160)
	tone(pcm)
	// size sends 25 frames and returns their mean payload size.
	size := func() int {
		_, before := w.sent()
		for range 25 {
			if err := s.AudioSink().WriteFrame(pcm); err != nil {
				t.Fatal(err)
			}
		}
		_, after := w.sent()
		n := 0
		for _, p := range after[len(before):] {
			n += len(p)
		}
		return n / 25
	}
	report := func(ssrc uint32, fraction uint8) {
		b, err := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 9,
			Reports: []rtcp.ReceptionReport{{SSRC: ssrc, FractionLost: fraction}}}})
		if err != nil {
			t.Fatal(err)
		}
		s.ReceiveRTCP(b)
	}
	clean := size()
	report(s.SSRC()+1, 64) // about another stream: ignored
	if s.PeerLoss() != 0 {
		t.Fatalf("a report about another SSRC set the loss to %d", s.PeerLoss())
	}
	report(s.SSRC(), 26) // 10 %
	if s.PeerLoss() != 11 {
		t.Fatalf("loss %d %%, want 11", s.PeerLoss())
	}
	lossy := size()
	for range fecOffAfter - 1 {
		report(s.SSRC(), 0)
	}
	if s.PeerLoss() == 0 {
		t.Fatal("FEC went off before fecOffAfter clean reports")
	}
	report(s.SSRC(), 0)
	if s.PeerLoss() != 0 {
		t.Fatalf("loss %d %% after %d clean reports", s.PeerLoss(), fecOffAfter)
	}
	again := size()
	t.Logf("mean Opus payload: clean %d B, peer losing 10 %% %d B, clean again %d B", clean, lossy, again)
	if lossy < clean*3/2 || again > clean*5/4 {
		t.Errorf("payloads %d B clean, %d B with loss, %d B clean again: FEC does not follow the reports", clean, lossy, again)
	}
	report(s.SSRC(), 0)
	s.ReceiveRTCP([]byte{0x80, 201, 0}) // malformed: ignored
}
