package stream

import (
	"math"
	"testing"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// TestLongG711Packets: a phone's 20 ms packets, then 60 ms ones (the PCM
// buffer grows once for them), then a lost one: every packet comes out
// as whole 20 ms frames of the tone, the loss concealed, no output error.
func TestLongG711Packets(t *testing.T) {
	s := newStream(t, Config{Name: "RTP"}, &wire{})
	var tbl PTTable
	tbl.SetCodec(0, media.CodecPCMU)
	s.SetReceive(tbl)
	out := audiotest.NewRecorder(8000)
	s.SetAudioOutput(out)
	enc, err := g711.NewEncoder(g711.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	n := 0 // samples sent so far
	seq := uint16(100)
	send := func(samples int, lose bool) {
		pcm := make([]int16, samples)
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(n+i)/8000))
		}
		ulaw := make([]byte, samples)
		if _, err := enc.Encode(ulaw, pcm); err != nil {
			t.Fatal(err)
		}
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(n), SSRC: 0x9}, Payload: ulaw}
		n += samples
		seq++
		if lose {
			return
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var pkt Packet
		if !s.Parse(b, &pkt) {
			t.Fatal("packet refused")
		}
		s.Receive(&pkt)
	}
	for range 5 {
		send(160, false)
	}
	for range 10 {
		send(480, false)
	}
	send(480, true) // lost: concealed once the next arrives
	for range 4 {
		send(480, false)
	}
	st := s.Stats()
	if st.OutputErrors != 0 {
		t.Fatalf("%d output errors", st.OutputErrors)
	}
	if got, want := out.Frames(), 5+3*15; got < want-3 || got > want {
		t.Errorf("%d frames out, want %d (or up to 3 fewer: the lost packet's)", got, want)
	}
	pcm := out.PCM()
	if f := audiotest.DominantFrequency(pcm[5*160:], 8000, 300, 3000, 10); math.Abs(f-1000) > 20 {
		t.Errorf("dominant %.0f Hz after the 60 ms packets, want 1000", f)
	}
}
