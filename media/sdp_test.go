package media

import (
	"errors"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

func sdpWithLines(n int) []byte {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n")
	for i := 0; i < n; i++ {
		b.WriteString("m=audio 4000 RTP/AVP 0\r\n")
	}
	return []byte(b.String())
}

func TestParseSDPBoundsMediaLines(t *testing.T) {
	for _, tc := range []struct {
		lines int
		ok    bool
	}{{1, true}, {MaxMediaLines, true}, {MaxMediaLines + 1, false}, {200, false}} {
		sd, err := ParseSDP(sdpWithLines(tc.lines))
		switch {
		case tc.ok && err != nil:
			t.Errorf("%d m-lines: %v", tc.lines, err)
		case tc.ok && len(sd.MediaDescriptions) != tc.lines:
			t.Errorf("%d m-lines: parsed %d", tc.lines, len(sd.MediaDescriptions))
		case !tc.ok && !errors.Is(err, ErrBadSDP):
			t.Errorf("%d m-lines: error %v; want ErrBadSDP", tc.lines, err)
		}
	}
}

// An m-line's direction attribute wins over the session's; without
// either the stream is sendrecv.
func TestDirection(t *testing.T) {
	for _, tc := range []struct {
		session, media string
		want           sdp.Direction
	}{
		{"", "", sdp.DirectionSendRecv},
		{"a=sendonly\r\n", "", sdp.DirectionSendOnly},
		{"a=sendonly\r\n", "a=recvonly\r\n", sdp.DirectionRecvOnly},
		{"", "a=inactive\r\n", sdp.DirectionInactive},
		{"a=inactive\r\n", "a=sendrecv\r\n", sdp.DirectionSendRecv},
	} {
		body := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + tc.session +
			"m=audio 4000 RTP/AVP 0\r\n" + tc.media
		sd, err := ParseSDP([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := Direction(sd, sd.MediaDescriptions[0]); got != tc.want {
			t.Errorf("session %q media %q: %v, want %v", tc.session, tc.media, got, tc.want)
		}
	}
}
