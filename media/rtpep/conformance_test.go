package rtpep_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/mediatest"
	"github.com/softswitch/softswitch/media/rtpep"
)

// TestConformance runs the media.Endpoint suite on plain RTP, a phone's
// socket as the peer, with PCMU and with Opus.
func TestConformance(t *testing.T) {
	for _, tt := range []struct {
		codec    media.Codec
		pt, tept uint8
		rtpmaps  string
	}{
		{media.CodecPCMU, 0, 101, "a=rtpmap:101 telephone-event/8000\r\n"},
		{media.CodecOpus, 111, 110, "a=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\n"},
	} {
		t.Run(tt.codec.String(), func(t *testing.T) {
			mediatest.Run(t, func(t *testing.T) mediatest.Call {
				conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = conn.Close() })
				e, err := rtpep.New(rtpep.Config{IP: "127.0.0.1", Codecs: []string{"opus", "PCMU"}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = e.Close() })
				offer := fmt.Sprintf("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
					"m=audio %d RTP/AVP %d %d\r\n%sa=sendrecv\r\n", conn.LocalAddr().(*net.UDPAddr).Port, tt.pt, tt.tept, tt.rtpmaps)
				if _, err := e.Answer(context.Background(), []byte(offer)); err != nil {
					t.Fatal(err)
				}
				return mediatest.Call{EP: e, Peer: mediatest.NewUDPPeer(conn, e.LocalAddr()), Codec: tt.codec, PT: tt.pt, TEPT: tt.tept}
			})
		})
	}
}
