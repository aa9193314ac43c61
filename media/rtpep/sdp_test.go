package rtpep

import (
	"context"
	"errors"
	"fmt"
	"github.com/softswitch/softswitch/media"
	"regexp"
	"strings"
	"testing"
)

func TestOfferFormat(t *testing.T) {
	e := newTestEndpoint(t, Config{})
	offer, err := e.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	port := e.LocalAddr().Port
	want := []string{
		"v=0",
		`o=- \d+ 1 IN IP4 127\.0\.0\.1`,
		"s=-",
		`c=IN IP4 127\.0\.0\.1`,
		"t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP 0 8 101", port),
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=sendrecv",
	}
	lines := strings.Split(strings.TrimSpace(string(offer)), "\r\n")
	if len(lines) != len(want) {
		t.Fatalf("offer has %d lines, want %d:\n%s", len(lines), len(want), offer)
	}
	for i, w := range want {
		if !regexp.MustCompile("^" + w + "$").MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	if port%2 != 0 {
		t.Errorf("RTP port %d is odd", port)
	}
	if e.String() != "RTP(pt=0) -> PCMU(decode)" {
		t.Errorf("String() = %q", e.String())
	}
	// The same offer again keeps the version (RFC 3264 §8).
	again, err := e.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(offer) {
		t.Errorf("repeated offer changed:\n%s\n%s", offer, again)
	}
}

func TestAnswerNegotiation(t *testing.T) {
	const peer = "192.0.2.10"
	tests := []struct {
		name    string
		codecs  []string // ours; nil = default
		offer   []string // media lines of the offer
		want    []string // answer lines that must be present
		codec   string
		te      int
		wantErr error
	}{
		{
			name:  "pcmu pcma te",
			offer: []string{"m=audio 4000 RTP/AVP 0 8 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"},
			want:  []string{"m=audio PORT RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=sendrecv"},
			codec: "PCMU", te: 101,
		},
		{
			name:  "pcma only",
			offer: []string{"m=audio 4000 RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"},
			want:  []string{"m=audio PORT RTP/AVP 8 101", "a=rtpmap:8 PCMA/8000"},
			codec: "PCMA", te: 101,
		},
		{
			name:  "static types without rtpmap",
			offer: []string{"m=audio 4000 RTP/AVP 18 8"},
			want:  []string{"m=audio PORT RTP/AVP 8", "a=rtpmap:8 PCMA/8000"},
			codec: "PCMA", te: -1,
		},
		{
			name:    "g729 only",
			offer:   []string{"m=audio 4000 RTP/AVP 18", "a=rtpmap:18 G729/8000"},
			wantErr: ErrNoCommonCodec,
		},
		{
			name:  "dynamic telephone-event kept",
			offer: []string{"m=audio 4000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-16"},
			want:  []string{"m=audio PORT RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000", "a=fmtp:96 0-16"},
			codec: "PCMU", te: 96,
		},
		{
			name:  "telephone-event at 48000 is not ours",
			offer: []string{"m=audio 4000 RTP/AVP 0 110", "a=rtpmap:110 telephone-event/48000"},
			want:  []string{"m=audio PORT RTP/AVP 0"},
			codec: "PCMU", te: -1,
		},
		{
			name:  "dynamic pt and lower-case name",
			offer: []string{"m=audio 4000 RTP/AVP 110 101", "a=rtpmap:110 pcma/8000", "a=rtpmap:101 telephone-event/8000"},
			want:  []string{"m=audio PORT RTP/AVP 110 101", "a=rtpmap:110 PCMA/8000"},
			codec: "PCMA", te: 101,
		},
		{
			name:   "our preference wins",
			codecs: []string{"PCMA", "PCMU"},
			offer:  []string{"m=audio 4000 RTP/AVP 0 8"},
			want:   []string{"m=audio PORT RTP/AVP 8"},
			codec:  "PCMA", te: -1,
		},
		{
			name:    "wrong clock rate",
			offer:   []string{"m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU/16000"},
			wantErr: ErrNoCommonCodec,
		},
		{
			name:   "opus at a dynamic pt with te/48000",
			codecs: []string{"opus", "PCMU"},
			offer:  []string{"m=audio 4000 RTP/AVP 96 97 101", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1", "a=rtpmap:97 telephone-event/48000", "a=rtpmap:101 telephone-event/8000"},
			want:   []string{"m=audio PORT RTP/AVP 96 97", "a=rtpmap:96 opus/48000/2", "a=rtpmap:97 telephone-event/48000", "a=fmtp:96 minptime=10;useinbandfec=1", "a=fmtp:97 0-16"},
			codec:  "opus", te: 97,
		},
		{
			name:   "opus then pcmu, opus without channels",
			codecs: []string{"opus", "PCMU"},
			offer:  []string{"m=audio 4000 RTP/AVP 98 0 101", "a=rtpmap:98 OPUS/48000", "a=rtpmap:101 telephone-event/8000"},
			want:   []string{"m=audio PORT RTP/AVP 98", "a=rtpmap:98 opus/48000/2"},
			codec:  "opus", te: -1, // te/8000 does not go with the 48 kHz clock
		},
		{
			name:   "our preference pcmu over offered opus",
			codecs: []string{"PCMU", "opus"},
			offer:  []string{"m=audio 4000 RTP/AVP 111 0 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"},
			want:   []string{"m=audio PORT RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"},
			codec:  "PCMU", te: 101,
		},
		{
			name:   "opus mono or at another clock is not opus",
			codecs: []string{"opus", "PCMA"},
			offer:  []string{"m=audio 4000 RTP/AVP 96 97 8", "a=rtpmap:96 opus/48000/1", "a=rtpmap:97 opus/16000/2"},
			want:   []string{"m=audio PORT RTP/AVP 8"},
			codec:  "PCMA", te: -1,
		},
		{
			name:  "opus not configured",
			offer: []string{"m=audio 4000 RTP/AVP 111 0", "a=rtpmap:111 opus/48000/2"},
			want:  []string{"m=audio PORT RTP/AVP 0"},
			codec: "PCMU", te: -1,
		},
		{
			name:  "video rejected, audio answered",
			offer: []string{"m=video 5000 RTP/AVP 96", "a=rtpmap:96 H264/90000", "m=audio 4000 RTP/AVP 0"},
			want:  []string{"m=video 0 RTP/AVP 96", "m=audio PORT RTP/AVP 0"},
			codec: "PCMU", te: -1,
		},
		{
			name:    "srtp profile",
			offer:   []string{"m=audio 4000 RTP/SAVP 0"},
			wantErr: ErrNoCommonCodec,
		},
		{
			name:    "disabled audio",
			offer:   []string{"m=audio 0 RTP/AVP 0"},
			wantErr: ErrNoCommonCodec,
		},
		{
			name:    "no audio",
			offer:   []string{"m=video 5000 RTP/AVP 96"},
			wantErr: ErrNoCommonCodec,
		},
		{
			name:  "sendonly offer gets recvonly",
			offer: []string{"m=audio 4000 RTP/AVP 0", "a=sendonly"},
			want:  []string{"a=recvonly"},
			codec: "PCMU", te: -1,
		},
		{
			name:  "recvonly offer gets sendonly",
			offer: []string{"m=audio 4000 RTP/AVP 0", "a=recvonly"},
			want:  []string{"a=sendonly"},
			codec: "PCMU", te: -1,
		},
		{
			name:  "inactive offer gets inactive",
			offer: []string{"m=audio 4000 RTP/AVP 0", "a=inactive"},
			want:  []string{"a=inactive"},
			codec: "PCMU", te: -1,
		},
		{
			name:    "bad payload type",
			offer:   []string{"m=audio 4000 RTP/AVP 0 abc"},
			wantErr: ErrBadSDP,
		},
		{
			name:    "payload type over 127",
			offer:   []string{"m=audio 4000 RTP/AVP 200"},
			wantErr: ErrBadSDP,
		},
		{
			name:    "bad rtpmap",
			offer:   []string{"m=audio 4000 RTP/AVP 96", "a=rtpmap:96 PCMU"},
			wantErr: ErrBadSDP,
		},
		{
			name:    "bad rtcp attribute",
			offer:   []string{"m=audio 4000 RTP/AVP 0", "a=rtcp:99999"},
			wantErr: ErrBadSDP,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEndpoint(t, Config{Codecs: tt.codecs})
			answer, err := e.Answer(context.Background(), offerSDP(peer, tt.offer...))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if e.Codec() != "" {
					t.Errorf("Codec() = %q after a failed answer", e.Codec())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			port := fmt.Sprint(e.LocalAddr().Port)
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "PORT", port)
				if !strings.Contains(string(answer), w+"\r\n") {
					t.Errorf("answer lacks %q:\n%s", w, answer)
				}
			}
			if got := e.Codec(); got != tt.codec {
				t.Errorf("Codec() = %q, want %q", got, tt.codec)
			}
			if te := e.s.SendInfo().TE; te != tt.te {
				t.Errorf("telephone-event pt = %d, want %d", te, tt.te)
			}
			if !strings.Contains(string(answer), "c=IN IP4 127.0.0.1\r\n") {
				t.Errorf("answer lacks our address:\n%s", answer)
			}
		})
	}
}

func TestAnswerMalformed(t *testing.T) {
	e := newTestEndpoint(t, Config{})
	tests := []struct {
		name string
		sdp  string
	}{
		{"empty", ""},
		{"garbage", "hello world"},
		{"no version", "o=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"},
		{"no connection", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"},
		{"hostname connection", string(offerSDP("pbx.example.com", "m=audio 4000 RTP/AVP 0"))},
		{"ip6 address in ip4", "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"},
		{"multicast", string(offerSDP("224.2.1.1", "m=audio 4000 RTP/AVP 0"))},
		{"port out of range", string(offerSDP("1.2.3.4", "m=audio 70000 RTP/AVP 0"))},
		{"huge", strings.Repeat("a", media.MaxSDPSize+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Answer(context.Background(), []byte(tt.sdp))
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("err = %v, want ErrBadSDP", err)
			}
			if !strings.HasPrefix(err.Error(), "answer: ") {
				t.Errorf("error %q does not name the operation", err)
			}
		})
	}
}

func TestAcceptNegotiation(t *testing.T) {
	ctx := context.Background()
	e := newTestEndpoint(t, Config{})
	if err := e.Accept(ctx, offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 0")); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("Accept without offer: %v, want ErrNoOffer", err)
	}
	if _, err := e.Offer(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Accept(ctx, offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 18")); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("answer with G729: %v, want ErrNoCommonCodec", err)
	}
	if err := e.Accept(ctx, []byte("v=0\r\nbroken")); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("broken answer: %v, want ErrBadSDP", err)
	}
	// An answer renumbering the codecs: we send with its numbers.
	ans := offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 97 98", "a=rtpmap:97 PCMA/8000", "a=rtpmap:98 telephone-event/8000")
	if err := e.Accept(ctx, ans); err != nil {
		t.Fatal(err)
	}
	if snd := e.s.SendInfo(); e.Codec() != "PCMA" || snd.PT != 97 || snd.TE != 98 {
		t.Errorf("codec %s send %+v, want PCMA 97 98", e.Codec(), snd)
	}
	if got := e.peer.cur.Load().dest.String(); got != "192.0.2.1:4000" {
		t.Errorf("dest %s", got)
	}
	// ... and receive with the numbers of our offer.
	if c, _, _, ok := e.s.Classify(8); !ok || c != media.CodecPCMA {
		t.Errorf("PT 8 not received as PCMA")
	}
	if _, te, clock, ok := e.s.Classify(te8PT); !ok || !te || clock != 8000 {
		t.Errorf("PT 101 not received as telephone-event")
	}
	if !strings.HasPrefix(e.AudioSink().String(), "PCMA(encode) -> RTP(pt=97)") {
		t.Errorf("sink String() = %q", e.AudioSink().String())
	}
	// A second Accept (200 after 183) is fine.
	if err := e.Accept(ctx, ans); err != nil {
		t.Fatal(err)
	}
}

func TestSessionVersion(t *testing.T) {
	ctx := context.Background()
	e := newTestEndpoint(t, Config{})
	version := func(sdp []byte) string {
		m := regexp.MustCompile(`o=- \d+ (\d+) `).FindSubmatch(sdp)
		if m == nil {
			t.Fatalf("no o= line in %s", sdp)
		}
		return string(m[1])
	}
	offer := offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 0 8")
	a1, err := e.Answer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := e.Answer(ctx, offer)
	hold, _ := e.Answer(ctx, offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 0 8", "a=sendonly"))
	if v1, v2, v3 := version(a1), version(a2), version(hold); v1 != "1" || v2 != "1" || v3 != "2" {
		t.Errorf("versions %s %s %s, want 1 1 2", v1, v2, v3)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no ip", Config{}},
		{"bad ip", Config{IP: "nope"}},
		{"unspecified ip", Config{IP: "0.0.0.0"}},
		{"unknown codec", Config{IP: testIP, Codecs: []string{"G729"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, nil); !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
		})
	}
	e := newTestEndpoint(t, Config{Codecs: []string{"pcma"}, RTPTimeout: -1})
	if e.set.timeout != 0 || e.set.depth != DefaultJitterDepth || e.set.codecs.desc[0].name != "PCMA" {
		t.Errorf("settings %+v", e.set)
	}
}
