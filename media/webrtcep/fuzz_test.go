package webrtcep

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
)

// jssipOffer is a Chromium offer as JsSIP sends it in an INVITE over WSS
// (trimmed of the extensions pion ignores).
const jssipOffer = "v=0\r\no=- 5829431702373561287 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS 4d2c\r\n" +
	"m=audio 54321 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=candidate:1467250027 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 network-id 1\r\n" +
	"a=ice-ufrag:Yw7K\r\na=ice-pwd:2Ys0cZl8bHUXpmNxQdwa5nKp\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendrecv\r\na=msid:4d2c 9f1e\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n" +
	"a=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n" +
	"a=ssrc:3735928559 cname:q3LdU2zI5Tz0E9ny\r\n"

// FuzzParseAudio reads arbitrary SDP the way every offer and answer from
// a browser is read: it must never panic, and what it reports must be
// consistent: known kinds at their clock rates, the first codec an audio
// codec listed in the table.
func FuzzParseAudio(f *testing.F) {
	f.Add(jssipOffer)
	f.Add(withDirection(jssipOffer, "sendonly"))
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 126\r\na=rtpmap:126 telephone-event/8000\r\na=inactive\r\n")
	f.Add("v=0\r\ns=-\r\nm=video 9 RTP/AVP 96\r\n")
	f.Fuzz(func(t *testing.T, body string) {
		a, err := audioTable(body)
		if err != nil {
			return
		}
		listed := false
		for pt := range uint8(128) {
			c, te, clock, ok := a.table.Lookup(pt)
			if ok && !te && (c == media.CodecNone || clock != c.Clock()) {
				t.Fatalf("pt %d: %v at %d Hz", pt, c, clock)
			}
			listed = listed || (ok && !te && c == a.first)
		}
		if a.first != media.CodecNone && !listed {
			t.Fatalf("first codec %v not in the table", a.first)
		}
	})
}

// FuzzAnswer answers arbitrary offers on one endpoint, as a browser's
// INVITE and re-INVITEs reach it: it must never panic, fail only with
// ErrNegotiation, media.ErrBadSDP or media.ErrNoCommonCodec (488 or 500
// for the SIP leg), and answer with SDP we can read back.
func FuzzAnswer(f *testing.F) {
	fac, _ := newTestFactory(f)
	b := newBrowser(f, chromeLike)
	f.Add([]byte(b.offer(nil)))
	b.close()
	f.Add([]byte(jssipOffer))
	f.Add([]byte(withDirection(jssipOffer, "sendonly")))
	f.Add([]byte("v=0\r\nnot sdp"))
	e := newTestEndpoint(f, fac)
	f.Fuzz(func(t *testing.T, offer []byte) {
		answer, err := e.Answer(context.Background(), offer)
		if err != nil {
			if !errors.Is(err, ErrNegotiation) && !errors.Is(err, media.ErrBadSDP) && !errors.Is(err, media.ErrNoCommonCodec) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if _, err := audioTable(string(answer)); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, answer)
		}
	})
}

// FuzzHandleRTP runs arbitrary decrypted packets through the receive path
// of an endpoint that answered a browser (RTP parse, padding, jitter
// buffer, Opus and G.711 decode, RFC 4733 detection): it must never panic.
func FuzzHandleRTP(f *testing.F) {
	pkt := func(pt uint8, seq uint16, payload ...byte) []byte {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 960, SSRC: 9}, Payload: payload}
		b, err := p.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(pkt(111, 1, 0xfc, 0xff, 0xfe))
	f.Add(pkt(0, 2, make([]byte, 160)...))
	f.Add(pkt(126, 3, 5, 0x8a, 0x03, 0x20))
	f.Add(pkt(110, 4, 11, 0x0a, 0x03, 0xc0))
	f.Add([]byte{0xb0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0xff})
	fac, _ := newEngineFactory(f, EnginePeerConnection)
	e, err := fac.create(context.Background()) // not started: the test drives the receive path
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.pc.Close() })
	a, err := audioTable(jssipOffer)
	if err != nil {
		f.Fatal(err)
	}
	e.s.SetReceive(a.table)
	e.SetAudioOutput(discardSink{rate: DefaultRate})
	rl := &readLoop{}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		receive(e, rl, pkt)
		e.s.Wake()
		for len(e.s.Events()) > 0 {
			<-e.s.Events()
		}
	})
}

// FuzzPeerVideo reads the video m-line of arbitrary SDP (the peer's offer
// or answer) and answers it with video accepted: never a panic, only VP8
// and packetization-mode 1 H.264 taken, each once, at 7-bit payload types,
// and an answer we can read back.
func FuzzPeerVideo(f *testing.F) {
	b, err := os.ReadFile("testdata/chrome-video-offer.sdp")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(jssipOffer))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 H264/90000\r\na=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\na=mid:v\r\n"))
	fac, _ := newTestFactory(f)
	e := newTestEndpoint(f, fac)
	e.AcceptVideo([]string{VideoVP8, VideoH264})
	f.Fuzz(func(t *testing.T, body []byte) {
		sd, err := media.ParseSDP(body)
		if err != nil {
			return
		}
		v := readPeerVideo(sd)
		seen := map[string]bool{}
		for _, c := range v.codecs {
			if seen[c.name] || c.pt > 127 || videoCodecID(c.name) == codecNone || (c.name == VideoH264 && !h264Mode1(c.fmtp)) {
				t.Fatalf("codecs %+v", v.codecs)
			}
			seen[c.name] = true
		}
		ans, err := e.Answer(context.Background(), body)
		if err != nil {
			return
		}
		if _, err := media.ParseSDP(ans); err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, ans)
		}
	})
}

// FuzzRelayFeedback rewrites arbitrary RTCP from a browser for the other
// leg: never a panic, only packets about the source's SSRC, sent as ours.
func FuzzRelayFeedback(f *testing.F) {
	const ours, its, srcOurs, src = 11, 12, 21, 22
	seed, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: ours}}},
		&rtcp.PictureLossIndication{MediaSSRC: ours}, &rtcp.TransportLayerNack{MediaSSRC: ours, Nacks: []rtcp.NackPair{{PacketID: 9}}},
		&rtcp.FullIntraRequest{FIR: []rtcp.FIREntry{{SSRC: ours}}}, &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 5e5, SSRCs: []uint32{ours}}})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := rtcp.Unmarshal(b)
		if err != nil {
			return
		}
		out := relayFeedback(pkts, ours, its, srcOurs, src)
		for _, p := range out {
			for _, s := range p.DestinationSSRC() {
				if s != src && s != srcOurs {
					t.Fatalf("relayed %T about SSRC %d", p, s)
				}
			}
		}
		_, _ = rtcp.Marshal(out) // may refuse what the input carried (a REMB over its range): then nothing is sent
	})
}
