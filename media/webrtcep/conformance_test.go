package webrtcep

import (
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/mediatest"
)

// TestConformance runs the media.Endpoint suite on DTLS-SRTP, a browser
// (pion, full ICE) as the peer, with Opus and with PCMU, on both engines.
func TestConformance(t *testing.T) {
	for _, engine := range []string{EngineLite, EnginePeerConnection} {
		t.Run(engine, func(t *testing.T) { conformance(t, engine) })
	}
}

func conformance(t *testing.T, engine string) {
	for _, tt := range []struct {
		codecs   browserCodecs
		codec    media.Codec
		pt, tept uint8
	}{
		{chromeLike, media.CodecOpus, 111, 110},
		{pcmuOnly, media.CodecPCMU, 0, 126},
	} {
		t.Run(tt.codec.String(), func(t *testing.T) {
			mediatest.Run(t, func(t *testing.T) mediatest.Call {
				f, _ := newEngineFactory(t, engine)
				e := newTestEndpoint(t, f)
				b := newBrowser(t, tt.codecs)
				browserCalls(t, b, e)
				b.waitBound(t)
				waitFor(t, 5*time.Second, "dtls", e.connected)
				return mediatest.Call{EP: e, Peer: browserPeer{b}, Codec: tt.codec, PT: tt.pt, TEPT: tt.tept}
			})
		})
	}
}

// browserPeer is the test browser as the suite's Peer.
type browserPeer struct{ b *browser }

func (p browserPeer) WriteRTP(h *rtp.Header, payload []byte) error {
	if !p.b.track.write(h, payload) {
		return errNotBound
	}
	return nil
}

func (p browserPeer) ReadRTP(d time.Duration) (rtp.Packet, error) {
	select {
	case pkt := <-p.b.pkts:
		return pkt, nil
	case <-time.After(d):
		return rtp.Packet{}, mediatest.ErrTimeout
	}
}
