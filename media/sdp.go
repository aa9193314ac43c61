package media

import (
	"errors"
	"fmt"

	"github.com/pion/sdp/v3"
)

// MaxSDPSize bounds the SDP bodies an endpoint parses.
const MaxSDPSize = 64 << 10

// MaxMediaLines bounds the m-lines of a peer's SDP. An answer keeps one
// line per offered m-line, so an offer with hundreds would be answered
// with SDP that no UDP datagram carries; no call needs more than a few.
const MaxMediaLines = 16

// ErrBadSDP is wrapped by the errors of ParseSDP: SDP that cannot be parsed.
var ErrBadSDP = errors.New("malformed sdp")

// ParseSDP parses a peer's SDP body, at most MaxSDPSize bytes and
// MaxMediaLines m-lines. The body
// comes from the network and the parser is third-party code: a parser
// panic becomes an error wrapping ErrBadSDP instead of taking the process
// down.
func ParseSDP(body []byte) (sd *sdp.SessionDescription, err error) {
	switch {
	case len(body) == 0:
		return nil, fmt.Errorf("%w: empty body", ErrBadSDP)
	case len(body) > MaxSDPSize:
		return nil, fmt.Errorf("%w: %d bytes", ErrBadSDP, len(body))
	}
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("%w: parser failure: %v", ErrBadSDP, r)
		}
	}()
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	if n := len(s.MediaDescriptions); n > MaxMediaLines {
		return nil, fmt.Errorf("%w: %d m-lines, at most %d", ErrBadSDP, n, MaxMediaLines)
	}
	return &s, nil
}
