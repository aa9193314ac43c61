package media

import (
	"errors"
	"testing"
)

const holdBase = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\n"

func TestHoldOf(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want bool
	}{
		{"sendrecv", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", false},
		{"no direction", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", false},
		{"sendonly", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", true},
		{"inactive", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=inactive\r\n", true},
		{"recvonly is not a hold of us", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n", false},
		{"session-level sendonly", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n", true},
		{"media sendrecv beats session sendonly", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", false},
		{"RFC 2543: session c=0.0.0.0", holdBase + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", true},
		{"RFC 2543: media c=0.0.0.0", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n", true},
		{"media address beats session 0.0.0.0", holdBase + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n", false},
		{"first audio line counts", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=inactive\r\nm=audio 4000 RTP/AVP 0\r\n", false},
		{"no audio", holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 5000 RTP/AVP 96\r\na=sendonly\r\n", false},
	}
	for _, tt := range tests {
		got, err := HoldOf([]byte(tt.sdp))
		if err != nil || got != tt.want {
			t.Errorf("%s: HoldOf = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := HoldOf([]byte("not sdp")); !errors.Is(err, ErrBadSDP) {
		t.Errorf("bad SDP: err %v, want ErrBadSDP", err)
	}
}

// FuzzHoldOf feeds arbitrary offers: no panic, and an error always wraps
// ErrBadSDP.
func FuzzHoldOf(f *testing.F) {
	f.Add([]byte(holdBase + "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	f.Add([]byte(holdBase + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"))
	f.Add([]byte(holdBase + "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	f.Fuzz(func(t *testing.T, offer []byte) {
		if _, err := HoldOf(offer); err != nil && !errors.Is(err, ErrBadSDP) {
			t.Fatalf("error wraps no ErrBadSDP: %v", err)
		}
	})
}
