package rtpep

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
)

// Offers and answers as real peers write them, for the SDP fuzz seeds.
var peerSDPs = [][]byte{
	// sipp 3.6 uac_pcap.xml
	[]byte("v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n"),
	// baresip 1.0 with Opus and G.711
	[]byte("v=0\r\no=- 1190505170 2136842180 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\na=tool:baresip 1.0.0\r\nm=audio 10102 RTP/AVP 96 0 8 101\r\nb=AS:93\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp:10103\r\na=sendrecv\r\na=label:1\r\na=ssrc:1491342185 cname:sip:1001@192.0.2.20\r\na=rtcp-rsize\r\na=ptime:20\r\n"),
	// a desk phone (Linphone-style) with video we must reject
	[]byte("v=0\r\no=1002 3391 1093 IN IP4 192.0.2.30\r\ns=Talk\r\nc=IN IP4 192.0.2.30\r\nt=0 0\r\na=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\nm=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:97 speex/16000\r\na=fmtp:97 vbr=on\r\na=rtpmap:98 speex/8000\r\na=fmtp:98 vbr=on\r\na=fmtp:18 annexb=yes\r\na=rtpmap:101 telephone-event/48000\r\na=rtpmap:99 telephone-event/16000\r\na=rtpmap:100 telephone-event/8000\r\na=rtcp-fb:* trr-int 1000\r\na=rtcp-fb:* ccm tmmbr\r\nm=video 9078 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"),
	// a trunk (Asterisk-style) answering hold
	[]byte("v=0\r\no=- 1842327416 1842327417 IN IP4 203.0.113.5\r\ns=Asterisk\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 17372 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=maxptime:150\r\na=sendonly\r\n"),
	// RFC 2543 hold, IPv6, and a browser offer we cannot take
	[]byte("v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
	[]byte("v=0\r\no=- 3 3 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 8\r\na=inactive\r\n"),
	[]byte("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic: WMS\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n"),
}

// FuzzAnswer answers arbitrary offers. It must never panic, fail only
// with ErrBadSDP or ErrNoCommonCodec, and answer with an SDP that our own
// parser reads back as the negotiation it settled: one line per offered
// line, the chosen audio line on our port with the offered payload types
// and the mirrored direction, every other line rejected with port 0.
func FuzzAnswer(f *testing.F) {
	for _, s := range peerSDPs {
		f.Add(s)
	}
	f.Add(offerSDP("192.0.2.1", "m=video 5000 RTP/AVP 96", "m=audio 4000 RTP/AVPF 110", "a=rtpmap:110 PCMA/8000", "a=rtcp:4001 IN IP4 1.2.3.4"))
	f.Add([]byte("v=0\r\nc=IN IP6 ::1\r\nm=audio 1 RTP/AVP 127\r\n"))
	e, err := New(Config{IP: testIP, Codecs: []string{"opus", "PCMU", "PCMA"}}, nil) // Opus first: the seeds offer it
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	f.Fuzz(func(t *testing.T, offer []byte) {
		answer, err := e.Answer(context.Background(), offer)
		if err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		off, _ := parseSDP(offer) // parsed once already
		om, _ := audioStream(off)
		want, _ := negotiate(om, &e.set.codecs)
		sd, err := parseSDP(answer)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%s", err, answer)
		}
		if len(sd.MediaDescriptions) != len(off.MediaDescriptions) {
			t.Fatalf("%d m-lines answer %d:\n%s", len(sd.MediaDescriptions), len(off.MediaDescriptions), answer)
		}
		for i, md := range sd.MediaDescriptions {
			if i != om.index && md.MediaName.Port.Value != 0 {
				t.Fatalf("m-line %d not rejected:\n%s", i, answer)
			}
		}
		am, err := audioStream(sd)
		if err != nil {
			t.Fatalf("our answer has no audio: %v\n%s", err, answer)
		}
		wantFormats := []uint8{want.pt}
		if want.te >= 0 {
			wantFormats = append(wantFormats, uint8(want.te))
		}
		var got []uint8
		for _, f := range am.formats {
			got = append(got, f.pt)
		}
		switch {
		case am.index != om.index || am.port != int(e.local.Port()) || !slices.Equal(am.protos, om.protos):
			t.Fatalf("answer line %d port %d %v, offer line %d %v:\n%s", am.index, am.port, am.protos, om.index, om.protos, answer)
		case !slices.Equal(got, wantFormats):
			t.Fatalf("answer formats %v, want %v:\n%s", got, wantFormats, answer)
		case am.dir != want.dir:
			t.Fatalf("answer direction %v, want %v:\n%s", am.dir, want.dir, answer)
		case am.formats[0].name != e.Codec():
			t.Fatalf("answer codec %s, endpoint sends %s", am.formats[0].name, e.Codec())
		}
	})
}

// FuzzAccept takes arbitrary answers to our offer: it must never panic,
// fail only with ErrBadSDP or ErrNoCommonCodec, and on success send one of
// the codecs we offered.
func FuzzAccept(f *testing.F) {
	for _, s := range peerSDPs {
		f.Add(s)
	}
	f.Add(offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 97 98", "a=rtpmap:97 PCMA/8000", "a=rtpmap:98 telephone-event/8000"))
	e, err := New(Config{IP: testIP}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	ctx := context.Background()
	offer, err := e.Offer(ctx)
	if err != nil {
		f.Fatal(err)
	}
	od, err := parseSDP(offer)
	if err != nil {
		f.Fatal(err)
	}
	var offered []string
	for _, a := range od.MediaDescriptions[0].Attributes {
		if rm, err := parseRtpmap(a.Value); a.Key == "rtpmap" && err == nil {
			offered = append(offered, rm.name)
		}
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		if err := e.Accept(ctx, answer); err != nil {
			if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if !slices.Contains(offered, e.Codec()) {
			t.Fatalf("sending %q, offered %v", e.Codec(), offered)
		}
	})
}

// FuzzReceiveRTP runs arbitrary datagrams through the receive path of
// two negotiated endpoints, G.711 and Opus (RTP parse, padding, jitter
// buffer, decode or FEC, RFC 4733 detection): it must never panic.
func FuzzReceiveRTP(f *testing.F) {
	f.Add(rtpPacket(0, 1, 160, 7, make([]byte, 160)))
	f.Add(rtpPacket(101, 2, 160, 7, []byte{5, 0x8a, 0x03, 0x20}))
	f.Add(rtpPacket(101, 3, 320, 7, []byte{5}))
	f.Add([]byte{0xb0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0xff})
	opusPkt, _ := fixturePacket(f, "opus")
	f.Add(opusPkt)
	f.Add(rtpPacket(96, 5, 960, 7, []byte{0xfc, 0xff, 0xfe}))
	f.Add(rtpPacket(97, 6, 960, 7, []byte{5, 0x8a, 0x12, 0xc0}))
	offers := map[string][]string{
		"PCMU": {"m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000"},
		"opus": {"m=audio 4000 RTP/AVP 96 97", "a=rtpmap:96 opus/48000/2", "a=rtpmap:97 telephone-event/48000"},
	}
	var eps []*Endpoint
	for codec, offer := range offers {
		e, err := newEndpoint(Config{IP: testIP, Codecs: []string{codec, "PCMA"}}, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = e.Close() })
		if _, err := e.Answer(context.Background(), offerSDP(testIP, offer...)); err != nil {
			f.Fatal(err)
		}
		e.SetAudioOutput(discardSink{})
		eps = append(eps, e)
	}
	src := netip.MustParseAddrPort(testIP + ":4000")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, e := range eps {
			e.handleRTP(pkt, src)
			e.s.Wake()
			for len(e.s.Events()) > 0 {
				<-e.s.Events()
			}
		}
	})
}
