package webrtcep

import (
	"context"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/softswitch/softswitch/media"
)

// chromeVideoOffer is Chromium 156's offer with a microphone and a camera.
func chromeVideoOffer(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/chrome-video-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Chromium offers VP8, H.264 in six flavours, VP9, AV1, RTX, RED and
// FEC: we take VP8 and one non-interleaved Constrained Baseline H.264, in
// the offer's order.
func TestRelayableCodecs(t *testing.T) {
	sd, err := media.ParseSDP([]byte(chromeVideoOffer(t)))
	if err != nil {
		t.Fatal(err)
	}
	v := readPeerVideo(sd)
	want := []videoCodec{{name: VideoVP8, pt: 96}, {name: VideoH264, pt: 108, fmtp: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}}
	if v.index != 1 || v.mid != "1" || v.rejected || !v.send || !v.recv || !reflect.DeepEqual(v.codecs, want) {
		t.Fatalf("peer video %+v, want index 1, mid 1, sendrecv, codecs %+v", v, want)
	}
	// Without Constrained Baseline, Baseline in packetization mode 1 does.
	offer := strings.ReplaceAll(chromeVideoOffer(t), "packetization-mode=1;profile-level-id=42e01f", "packetization-mode=1;profile-level-id=640c1f")
	sd, _ = media.ParseSDP([]byte(offer))
	if v := readPeerVideo(sd); len(v.codecs) != 2 || v.codecs[1].pt != 102 {
		t.Fatalf("without 42e01f: %+v, want H.264 at 102 (42001f)", v.codecs)
	}
	// H.264 listed first stays first.
	offer = strings.Replace(chromeVideoOffer(t), "SAVPF 96 97 102", "SAVPF 108 96 97 102", 1)
	sd, _ = media.ParseSDP([]byte(offer))
	if v := readPeerVideo(sd); len(v.codecs) != 2 || v.codecs[0].name != VideoH264 {
		t.Fatalf("H.264 first: %+v", v.codecs)
	}
}

// The caller's video is declined (port 0, out of the BUNDLE group) until
// AcceptVideo; then answered on the audio's transport with the accepted
// codecs at the caller's payload types and the feedback we relay.
func TestLiteAnswerVideo(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	offer := []byte(chromeVideoOffer(t))
	ans, err := e.Answer(context.Background(), offer)
	if err != nil {
		t.Fatal(err)
	}
	s := string(ans)
	if !strings.Contains(s, "a=group:BUNDLE 0\r\n") || !strings.Contains(s, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n") || e.lite.video.m.Load() != nil {
		t.Fatalf("video not declined:\n%s", s)
	}
	if got := e.VideoCodecs(); !reflect.DeepEqual(got, []string{VideoVP8, VideoH264}) {
		t.Fatalf("VideoCodecs %v", got)
	}

	e.AcceptVideo([]string{VideoH264})
	ans, err = e.Answer(context.Background(), offer)
	if err != nil {
		t.Fatal(err)
	}
	s = string(ans)
	for _, want := range []string{"a=group:BUNDLE 0 1\r\n", "m=video 9 UDP/TLS/RTP/SAVPF 108\r\n", "a=mid:1\r\n",
		"a=rtpmap:108 H264/90000\r\n", "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n",
		"a=rtcp-fb:108 nack\r\n", "a=rtcp-fb:108 nack pli\r\n", "a=rtcp-fb:108 ccm fir\r\n", "a=rtcp-fb:108 goog-remb\r\n"} {
		if !strings.Contains(s, want) {
			t.Fatalf("answer lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "VP8") || strings.Contains(s, "extmap") || strings.Count(s, "m=") != 2 {
		t.Fatalf("answer carries more than H.264 video:\n%s", s)
	}
	m := e.lite.video.m.Load()
	if m == nil || m.recv[108] != codecH264 || m.send[codecH264] != 108 || m.send[codecVP8] != -1 || m.recv[96] != codecNone {
		t.Fatalf("video map %+v", m)
	}
	// The answer parses as a peer's SDP would: our video is read back.
	sd, err := media.ParseSDP(ans)
	if err != nil {
		t.Fatal(err)
	}
	if v := readPeerVideo(sd); len(v.codecs) != 1 || v.codecs[0].pt != 108 {
		t.Fatalf("our answer's video reads back as %+v", v)
	}
	// A video line without a=mid cannot be BUNDLEd: declined.
	noMid := strings.Replace(string(offer), "a=mid:1\r\n", "", 1)
	noMid = strings.Replace(noMid, "BUNDLE 0 1", "BUNDLE 0", 1)
	if ans, err = e.Answer(context.Background(), []byte(noMid)); err != nil || !strings.Contains(string(ans), "m=video 0 ") {
		t.Fatalf("video without mid: %v\n%s", err, ans)
	}
}

// We offer video when told to, BUNDLEd with the audio; the answer's
// codecs (at our payload types) are what VideoCodecs reports, and a
// declined line reports none.
func TestLiteOfferVideo(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(offer string) string
		want   []string
	}{
		{"vp8 kept", func(o string) string {
			o = strings.Replace(o, "m=video 9 UDP/TLS/RTP/SAVPF 96 102", "m=video 9 UDP/TLS/RTP/SAVPF 96", 1)
			return o
		}, []string{VideoVP8}},
		{"both kept", func(o string) string { return o }, []string{VideoVP8, VideoH264}},
		{"declined", func(o string) string {
			return strings.Replace(o, "m=video 9 UDP/TLS/RTP/SAVPF 96 102", "m=video 0 UDP/TLS/RTP/SAVPF 96", 1)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newTestFactory(t)
			e := newTestEndpoint(t, f)
			e.OfferVideo([]string{VideoVP8, "VP9", VideoH264})
			offer, err := e.Offer(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			o := string(offer)
			for _, want := range []string{"a=group:BUNDLE 0 1\r\n", "m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\n", "a=rtpmap:96 VP8/90000\r\n",
				"a=fmtp:102 " + h264Fmtp + "\r\n", "a=setup:actpass\r\n"} {
				if !strings.Contains(o, want) {
					t.Fatalf("offer lacks %q:\n%s", want, o)
				}
			}
			if strings.Index(o, "m=audio") > strings.Index(o, "m=video") {
				t.Fatalf("video before audio:\n%s", o)
			}
			// The "browser" answers with our SDP as it stands, setup active
			// and its own credentials.
			ans := strings.ReplaceAll(tc.answer(o), "a=setup:actpass", "a=setup:active")
			if err := e.Accept(context.Background(), []byte(ans)); err != nil {
				t.Fatal(err)
			}
			if got := e.VideoCodecs(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("VideoCodecs %v, want %v", got, tc.want)
			}
			if (e.lite.video.m.Load() != nil) != (tc.want != nil) {
				t.Fatalf("video map %v with codecs %v", e.lite.video.m.Load(), tc.want)
			}
		})
	}
	// Without OfferVideo, audio only.
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	offer, err := e.Offer(context.Background())
	if err != nil || strings.Contains(string(offer), "m=video") {
		t.Fatalf("offer without video: %v\n%s", err, offer)
	}
}

// The feedback a browser sends about the video we send it reaches the
// video's source with that leg's SSRCs; feedback about audio and other
// SSRCs stays on its leg.
func TestRelayFeedback(t *testing.T) {
	const ours, its, srcOurs, src = 11, 12, 21, 22
	rr := func(blocks ...rtcp.ReceptionReport) *rtcp.ReceiverReport {
		return &rtcp.ReceiverReport{SSRC: srcOurs, Reports: blocks}
	}
	for _, tc := range []struct {
		name string
		in   []rtcp.Packet
		want []rtcp.Packet
	}{
		{"pli", []rtcp.Packet{&rtcp.PictureLossIndication{SenderSSRC: 5, MediaSSRC: ours}},
			[]rtcp.Packet{rr(), &rtcp.PictureLossIndication{SenderSSRC: srcOurs, MediaSSRC: src}}},
		{"fir", []rtcp.Packet{&rtcp.FullIntraRequest{SenderSSRC: 5, FIR: []rtcp.FIREntry{{SSRC: 99, SequenceNumber: 1}, {SSRC: ours, SequenceNumber: 7}}}},
			[]rtcp.Packet{rr(), &rtcp.FullIntraRequest{SenderSSRC: srcOurs, MediaSSRC: src, FIR: []rtcp.FIREntry{{SSRC: src, SequenceNumber: 7}}}}},
		{"nack", []rtcp.Packet{&rtcp.TransportLayerNack{SenderSSRC: 5, MediaSSRC: ours, Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 3}}}},
			[]rtcp.Packet{rr(), &rtcp.TransportLayerNack{SenderSSRC: srcOurs, MediaSSRC: src, Nacks: []rtcp.NackPair{{PacketID: 100, LostPackets: 3}}}}},
		{"remb", []rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: 5, Bitrate: 1e6, SSRCs: []uint32{77, ours}}},
			[]rtcp.Packet{rr(), &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: srcOurs, Bitrate: 1e6, SSRCs: []uint32{src}}}},
		{"report blocks and the browser's own sender report", []rtcp.Packet{&rtcp.SenderReport{SSRC: its, NTPTime: 1 << 40, RTPTime: 9000, PacketCount: 3, OctetCount: 300,
			Reports: []rtcp.ReceptionReport{{SSRC: ours, FractionLost: 12, LastSenderReport: 5}, {SSRC: 1234, FractionLost: 200}}}},
			[]rtcp.Packet{rr(rtcp.ReceptionReport{SSRC: src, FractionLost: 12, LastSenderReport: 5}),
				&rtcp.SenderReport{SSRC: srcOurs, NTPTime: 1 << 40, RTPTime: 9000, PacketCount: 3, OctetCount: 300}}},
		{"audio feedback stays", []rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: 1234}}},
			&rtcp.PictureLossIndication{MediaSSRC: 1234}, &rtcp.TransportLayerNack{MediaSSRC: 1234}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := relayFeedback(tc.in, ours, its, srcOurs, src)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
			if got != nil {
				if _, err := rtcp.Marshal(got); err != nil {
					t.Fatalf("relayed feedback does not marshal: %v", err)
				}
			}
		})
	}
	// Before the source's SSRC is known, nothing can be addressed to it.
	if got := relayFeedback([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ours}}, ours, its, srcOurs, 0); got != nil {
		t.Fatalf("relayed with no source SSRC: %v", got)
	}
}

// relayPair is two lite endpoints without readers relaying video to each
// other: a's browser sends with key, b's gets what b sends (SRTP with
// key) on sink.
type relayPair struct {
	a, b   *Endpoint
	from   netip.AddrPort // a's browser
	sink   *net.UDPConn   // b's browser
	aSink  *net.UDPConn   // a's browser, for what a sends it (keyframe requests)
	enc    *srtp.Context  // a's browser's
	decB   *srtp.Context  // b's browser's
	decA   *srtp.Context  // a's browser's, for what a sends it
	seq    uint16
	packet []byte
}

func newRelayPair(t testing.TB) *relayPair {
	key, salt := make([]byte, 16), make([]byte, 14)
	for i := range key {
		key[i] = byte(5 * i)
	}
	ctx := func(opts ...srtp.ContextOption) *srtp.Context {
		c, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	fac, _ := newTestFactory(t)
	ca, a, from := liteFuzzFixture(t, fac, key, salt)
	cb, b, _ := liteFuzzFixture(t, fac, key, salt)
	p := &relayPair{a: a, b: b, from: from, enc: ctx(), decB: ctx(), decA: ctx()}
	for _, s := range []**net.UDPConn{&p.sink, &p.aSink} {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		*s = c
	}
	// a's browser: offered VP8 at 100; b's: VP8 at 96 (ours).
	ca.video.m.Store(newVideoMap([]videoCodec{{name: VideoVP8, pt: 100}}))
	cb.video.m.Store(newVideoMap([]videoCodec{{name: VideoVP8, pt: ptVP8}, {name: VideoH264, pt: ptH264}}))
	ca.setVideoTx(ctx())
	cb.setVideoTx(ctx())
	bAddr := p.sink.LocalAddr().(*net.UDPAddr).AddrPort()
	cb.peer.Store(&bAddr)
	// a's browser sends from aSink's address: keyframe requests go there.
	p.from = p.aSink.LocalAddr().(*net.UDPAddr).AddrPort()
	ca.peer.Store(&p.from)
	a.RelayVideo(b)
	b.RelayVideo(a)
	return p
}

// send encrypts one VP8 packet of a's browser (SSRC 0xabc, PT 100) and
// hands it to a's demultiplexer.
func (p *relayPair) send(t testing.TB) {
	p.seq++
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, PayloadType: 100, SequenceNumber: p.seq, Timestamp: uint32(p.seq) * 3000, SSRC: 0xabc},
		Payload: []byte{0x90, 0x80, byte(p.seq), 1, 2, 3, 4}}
	plain, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if p.packet, err = p.enc.EncryptRTP(p.packet[:0], plain, nil); err != nil {
		t.Fatal(err)
	}
	p.a.lite.handle(p.packet, p.from)
}

// The video a's browser sends reaches b's browser at b's payload type
// and our SSRC on b's leg, sequence numbers, timestamps and payload
// untouched; the first packet relayed asks a's browser for a keyframe.
func TestLiteVideoRelay(t *testing.T) {
	p := newRelayPair(t)
	for range 3 {
		p.send(t)
	}
	buf := make([]byte, 1500)
	for i := 1; i <= 3; i++ {
		_ = p.sink.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := p.sink.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		var h rtp.Header
		plain, err := p.decB.DecryptRTP(nil, buf[:n], &h)
		if err != nil {
			t.Fatalf("b's browser cannot decrypt: %v", err)
		}
		if h.PayloadType != ptVP8 || h.SSRC != p.b.lite.video.ssrc || h.SequenceNumber != uint16(i) || h.Timestamp != uint32(i)*3000 || !h.Marker {
			t.Fatalf("packet %d relayed as %+v", i, h)
		}
		if payload := plain[len(plain)-7:]; payload[2] != byte(i) || payload[6] != 4 {
			t.Fatalf("payload %x", payload)
		}
	}
	_ = p.aSink.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := p.aSink.Read(buf)
	if err != nil {
		t.Fatalf("no keyframe request to the source: %v", err)
	}
	plain, err := p.decA.DecryptRTCP(nil, buf[:n], nil)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil || len(pkts) != 1 {
		t.Fatalf("keyframe request %v %v", pkts, err)
	}
	if pli, ok := pkts[0].(*rtcp.PictureLossIndication); !ok || pli.MediaSSRC != 0xabc || pli.SenderSSRC != p.a.lite.video.ssrc {
		t.Fatalf("keyframe request %+v", pkts[0])
	}
	st := p.a.VideoStats()
	if st.Received != 3 || st.Dropped != 0 || p.b.VideoStats().Sent != 3 || st.FeedbackOut != 1 {
		t.Fatalf("stats a %+v, b %+v", st, p.b.VideoStats())
	}

	// b's browser loses a packet: its NACK reaches a's browser about SSRC 0xabc.
	nack, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 77},
		&rtcp.TransportLayerNack{SenderSSRC: 77, MediaSSRC: p.b.lite.video.ssrc, Nacks: []rtcp.NackPair{{PacketID: 2}}}})
	enc := p.enc // b's browser encrypts with the same test keys
	sn, err := enc.EncryptRTCP(nil, nack, nil)
	if err != nil {
		t.Fatal(err)
	}
	bFrom := netip.MustParseAddrPort("127.0.0.1:9")
	p.b.lite.peer.Store(&bFrom)
	p.b.lite.handle(sn, bFrom)
	_ = p.aSink.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err = p.aSink.Read(buf); err != nil {
		t.Fatalf("NACK not relayed: %v", err)
	}
	if plain, err = p.decA.DecryptRTCP(nil, buf[:n], nil); err != nil {
		t.Fatal(err)
	}
	pkts, _ = rtcp.Unmarshal(plain)
	if len(pkts) != 2 {
		t.Fatalf("relayed %v", pkts)
	}
	if n, ok := pkts[1].(*rtcp.TransportLayerNack); !ok || n.MediaSSRC != 0xabc || n.Nacks[0].PacketID != 2 {
		t.Fatalf("relayed NACK %+v", pkts[1])
	}

	// a's video pauses for longer than a browser can resend: as it
	// resumes, a's browser is asked for a keyframe.
	p.a.lite.video.last.Store(time.Now().Add(-time.Second).UnixNano())
	p.send(t)
	_ = p.aSink.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err = p.aSink.Read(buf); err != nil {
		t.Fatalf("no keyframe request after a gap: %v", err)
	}
	if plain, err = p.decA.DecryptRTCP(nil, buf[:n], nil); err != nil {
		t.Fatal(err)
	}
	if pkts, _ = rtcp.Unmarshal(plain); len(pkts) != 1 {
		t.Fatalf("after a gap: %v", pkts)
	} else if pli, ok := pkts[0].(*rtcp.PictureLossIndication); !ok || pli.MediaSSRC != 0xabc {
		t.Fatalf("after a gap: %+v", pkts[0])
	}

	// Relay stopped: a's video goes nowhere, counted.
	p.a.RelayVideo(nil)
	p.send(t)
	if st := p.a.VideoStats(); st.Dropped != 1 {
		t.Fatalf("after the relay stopped: %+v", st)
	}
}

// A video payload type that the audio uses too cannot be told apart on
// one transport: that codec is not accepted.
func TestLiteVideoPTClash(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	e.AcceptVideo([]string{VideoVP8, VideoH264})
	offer := strings.Replace(chromeVideoOffer(t), "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102", "m=video 9 UDP/TLS/RTP/SAVPF 111 97 102", 1)
	offer = strings.Replace(offer, "a=rtpmap:96 VP8/90000", "a=rtpmap:111 VP8/90000", 1)
	ans, err := e.Answer(context.Background(), []byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(ans); !strings.Contains(s, "m=video 9 UDP/TLS/RTP/SAVPF 108\r\n") || strings.Contains(s, "VP8") {
		t.Fatalf("VP8 on the audio's Opus payload type accepted:\n%s", s)
	}
}

// The PeerConnection engine relays no video: a browser's video offer is
// answered with its video rejected and audio as usual.
func TestPeerConnectionDeclinesVideo(t *testing.T) {
	f, _ := newEngineFactory(t, EnginePeerConnection)
	e := newTestEndpoint(t, f)
	e.AcceptVideo([]string{VideoVP8})
	e.OfferVideo([]string{VideoVP8})
	ans, err := e.Answer(context.Background(), []byte(chromeVideoOffer(t)))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(ans); !strings.Contains(s, "m=video 0 ") || !strings.Contains(s, "a=rtpmap:111 opus/48000/2") {
		t.Fatalf("answer:\n%s", s)
	}
	if e.VideoCodecs() != nil || e.VideoStats() != (VideoStats{}) {
		t.Fatalf("video on the PeerConnection engine: %v %+v", e.VideoCodecs(), e.VideoStats())
	}
	e.RelayVideo(nil)
}
