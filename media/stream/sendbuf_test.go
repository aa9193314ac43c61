package stream

import (
	"bytes"
	"testing"

	"github.com/softswitch/softswitch/media"
)

// A stream's packet buffer holds what its packets need: a relayed G.711
// stream keeps sendBufMin bytes; a larger relayed payload grows it and
// goes out whole; once sized, sending allocates nothing.
func TestSendBufferSizedByPayload(t *testing.T) {
	w := &wire{}
	s := newStream(t, Config{Name: "RTP"}, w)
	s.SetSend(Send{Codec: media.CodecPCMU, PT: 0, TE: -1})
	sink := (*audioSink)(s)
	g711 := bytes.Repeat([]byte{0xd5}, 160)
	for range 3 {
		if ok, err := sink.WritePayload(media.CodecPCMU, g711); !ok || err != nil {
			t.Fatalf("WritePayload(160 bytes) = %v, %v", ok, err)
		}
	}
	if n := len(s.tx.buf); n > sendBufMin {
		t.Errorf("send buffer %d bytes after G.711 frames, want at most %d", n, sendBufMin)
	}
	big := make([]byte, MaxPacket-hdrSize)
	for i := range big {
		big[i] = byte(i)
	}
	if ok, err := sink.WritePayload(media.CodecPCMU, big); !ok || err != nil {
		t.Fatalf("WritePayload(%d bytes) = %v, %v", len(big), ok, err)
	}
	_, payloads := w.sent()
	if len(payloads) != 4 || !bytes.Equal(payloads[0], g711) || !bytes.Equal(payloads[3], big) {
		t.Fatalf("sent %d payloads; want 3 of G.711 then the %d bytes, unchanged", len(payloads), len(big))
	}
	if raceEnabled {
		return // allocation counts differ under the race detector; the sizes above still hold
	}
	w.mu.Lock()
	w.drop = true
	w.mu.Unlock()
	if a := testing.AllocsPerRun(100, func() { _, _ = sink.WritePayload(media.CodecPCMU, big[:1000]) }); a != 0 {
		t.Errorf("%v allocations per relayed packet once the buffer fits", a)
	}
}
