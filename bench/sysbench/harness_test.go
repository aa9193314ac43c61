package main

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/softswitch/softswitch/codecs/g711"
)

func TestBencodeRoundTrip(t *testing.T) {
	in := map[string]any{"command": "offer", "sdp": "v=0\r\n", "n": 3,
		"codec": map[string]any{"mask": []any{"opus"}, "transcode": []any{"PCMU"}}}
	var b bytes.Buffer
	bencode(&b, in)
	want := "d5:codecd4:maskl4:opuse9:transcodel4:PCMUee7:command5:offer1:ni3e3:sdp5:v=0\r\ne"
	if b.String() != want {
		t.Fatalf("bencode = %q, want %q", b.String(), want)
	}
	out, rest, err := bdecode(b.Bytes())
	if err != nil || len(rest) != 0 {
		t.Fatalf("bdecode: %v, rest %q", err, rest)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip = %#v, want %#v", out, in)
	}
	for _, bad := range []string{"", "d3:abc", "l", "5:ab", "i12", "x"} {
		if _, _, err := bdecode([]byte(bad)); err == nil {
			t.Errorf("bdecode(%q): no error", bad)
		}
	}
}

// The relay marker must survive a µ-law decode and re-encode, as a
// softswitch that relays through PCM does.
func TestMarkerSurvivesG711(t *testing.T) {
	p := make([]byte, pcmuLen)
	x := putNibbles(p[0:8], 0xdeadbeef) ^ putNibbles(p[8:16], 12345)
	p[16] = 0x20 | x
	pcm := make([]int16, pcmuLen)
	g711.DecodeULaw(pcm, p)
	back := make([]byte, pcmuLen)
	g711.EncodeULaw(back, pcm)
	sent, x1, ok1 := getNibbles(back[0:8])
	ctr, x2, ok2 := getNibbles(back[8:16])
	if !ok1 || !ok2 || sent != 0xdeadbeef || ctr != 12345 || back[16] != 0x20|(x1^x2) {
		t.Fatalf("marker after G.711 round trip: %x", back[:markerLen])
	}
}

func TestParseSIP(t *testing.T) {
	raw := "SIP/2.0 407 Proxy Authentication Required\r\nv: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKx\r\n" +
		"i: abc@bench\r\nCSeq: 2 INVITE\r\nTo: <sip:1001@h>;tag=t1\r\nm: <sip:x@127.0.0.1:9;transport=udp>\r\n\r\n"
	m, err := parseSIP([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.status != 407 || m.callID() != "abc@bench" || m.cseqMethod() != "INVITE" || tagOf(m.get("to")) != "t1" ||
		m.contactURI() != "sip:x@127.0.0.1:9;transport=udp" {
		t.Fatalf("parsed %+v", m)
	}
	ip, port, err := sdpAudio(pcmuSDP(4242))
	if err != nil || ip != "127.0.0.1" || port != 4242 {
		t.Fatalf("sdpAudio = %s %d %v", ip, port, err)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 100; i++ {
		h.add(msDur(i))
	}
	n, p := h.percentiles(50, 99)
	if n != 100 || p[0] < 49.9 || p[0] > 50.1 || p[1] < 98.9 || p[1] > 99.1 {
		t.Fatalf("n %d p50 %.2f p99 %.2f", n, p[0], p[1])
	}
}

func msDur(ms int) time.Duration { return time.Duration(ms)*time.Millisecond - time.Microsecond }
