package sipleg

import (
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

func TestMediaKind(t *testing.T) {
	if k := kindForOffer([]byte("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n")); k != MediaWebRTC {
		t.Errorf("browser offer: %v", k)
	}
	if k := kindForOffer([]byte("v=0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n")); k != MediaRTP {
		t.Errorf("phone offer: %v", k)
	}
	for tr, want := range map[string]MediaKind{"ws": MediaWebRTC, "WSS": MediaWebRTC, "udp": MediaRTP, "tls": MediaRTP, "tcp": MediaRTP} {
		if k := kindForTransport(tr); k != want {
			t.Errorf("kindForTransport(%s) = %v, want %v", tr, k, want)
		}
	}
}
