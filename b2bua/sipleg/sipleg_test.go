package sipleg

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDTMFInfo(t *testing.T) {
	tests := []struct {
		ct, body string
		digit    rune
		dur      time.Duration
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond, true},
		{"application/dtmf-relay", "Signal= #\nDuration=250", '#', 250 * time.Millisecond, true},
		{"application/dtmf-relay", "signal=a\r\n", 'A', 100 * time.Millisecond, true},
		{"application/dtmf-relay", "Signal=11\r\n", '#', 100 * time.Millisecond, true},
		{"application/dtmf-relay", "Signal=\r\n", 0, 0, false},
		{"application/dtmf-relay", "Signal=X\r\n", 0, 0, false},
		{"application/dtmf-relay", "Signal=5\r\nDuration=-3\r\n", '5', 100 * time.Millisecond, true},
		{"application/dtmf", "9", '9', 100 * time.Millisecond, true},
		{"application/dtmf", "99", 0, 0, false},
		{"text/plain", "5", 0, 0, false},
	}
	for _, tt := range tests {
		d, dur, ok := parseDTMFInfo(tt.ct, tt.body)
		if ok != tt.ok || ok && (d != tt.digit || dur != tt.dur) {
			t.Errorf("parseDTMFInfo(%q, %q) = %q %v %v", tt.ct, tt.body, d, dur, ok)
		}
	}
}

// offerSDP is an offer with one audio line "m=audio PORT PROTO FORMATS"
// and whatever other m= lines come before it.
func offerSDP(before, audio string) []byte {
	return []byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + before + audio + "\r\na=sendrecv\r\n")
}

func TestMediaKind(t *testing.T) {
	tests := []struct {
		name string
		sdp  []byte
		want MediaKind
		ok   bool
	}{
		{"browser offer", offerSDP("", "m=audio 9 UDP/TLS/RTP/SAVPF 111 0"), MediaWebRTC, true},
		{"phone offer", offerSDP("", "m=audio 4000 RTP/AVP 0 8 101"), MediaRTP, true},
		{"LF line ends", []byte("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\n"), MediaWebRTC, true},
		{"DTLS-SRTP without feedback", offerSDP("", "m=audio 9 UDP/TLS/RTP/SAVP 0"), MediaWebRTC, true},
		{"AVPF", offerSDP("", "m=audio 4000 RTP/AVPF 0"), MediaRTP, true},
		{"SDES-SRTP", offerSDP("", "m=audio 4000 RTP/SAVP 0"), MediaRTP, true},
		{"the first audio line decides", offerSDP("m=audio 4000 RTP/AVP 0\r\n", "m=audio 9 UDP/TLS/RTP/SAVPF 111"), MediaRTP, true},
		{"video first", offerSDP("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "m=audio 4000 RTP/AVP 0"), MediaRTP, true},
		{"profile only in an attribute", offerSDP("", "m=audio 4000 RTP/AVP 0\r\na=x-note:UDP/TLS/RTP/SAVPF"), MediaRTP, true},
		{"no audio", offerSDP("", "m=video 9 UDP/TLS/RTP/SAVPF 96"), MediaRTP, false},
		{"unknown profile", offerSDP("", "m=audio 4000 TCP/MRCPv2 1"), MediaRTP, false},
		{"not SDP", []byte("hello"), MediaRTP, false},
		{"truncated", []byte("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"), MediaRTP, false},
		{"200 m-lines", offerSDP(strings.Repeat("m=audio 4000 RTP/AVP 0\r\n", 199), "m=audio 4000 RTP/AVP 0"), MediaRTP, false},
		{"too large", offerSDP(strings.Repeat("a=x:"+strings.Repeat("y", 1000)+"\r\n", 70), "m=audio 4000 RTP/AVP 0"), MediaRTP, false},
	}
	for _, tt := range tests {
		k, err := kindForOffer(tt.sdp)
		if (err == nil) != tt.ok || k != tt.want {
			t.Errorf("%s: kindForOffer = %v, %v; want %v (ok %v)", tt.name, k, err, tt.want, tt.ok)
		}
		if err != nil && (!errors.Is(err, errUnusableOffer) || negotiationStatus(err) != 488) {
			t.Errorf("%s: %v is not answered 488", tt.name, err)
		}
	}
	for tr, want := range map[string]MediaKind{"ws": MediaWebRTC, "WSS": MediaWebRTC, "udp": MediaRTP, "tls": MediaRTP, "tcp": MediaRTP} {
		if k := kindForTransport(tr); k != want {
			t.Errorf("kindForTransport(%s) = %v, want %v", tr, k, want)
		}
	}
}
