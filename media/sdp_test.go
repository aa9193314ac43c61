package media

import (
	"errors"
	"strings"
	"testing"
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
