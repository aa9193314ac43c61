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

// HoldOf tells whether an offer puts the call on hold: its first audio
// m-line (or the session) says a=sendonly or a=inactive (RFC 3264 §8.4),
// or its connection address is 0.0.0.0 (RFC 2543 hold, older phones).
// An offer without audio is not a hold. Errors wrap ErrBadSDP.
func HoldOf(offer []byte) (bool, error) {
	sd, err := ParseSDP(offer)
	if err != nil {
		return false, fmt.Errorf("hold of offer: %w", err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		if d := Direction(sd, md); d == sdp.DirectionSendOnly || d == sdp.DirectionInactive {
			return true, nil
		}
		return nullAddress(md.ConnectionInformation, sd.ConnectionInformation), nil
	}
	return false, nil
}

// Direction is an m-line's a=sendrecv/sendonly/recvonly/inactive, else
// the session's, else sendrecv (RFC 4566 §6), as its author means it.
func Direction(sd *sdp.SessionDescription, md *sdp.MediaDescription) sdp.Direction {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv":
				return sdp.DirectionSendRecv
			case "sendonly":
				return sdp.DirectionSendOnly
			case "recvonly":
				return sdp.DirectionRecvOnly
			case "inactive":
				return sdp.DirectionInactive
			}
		}
	}
	return sdp.DirectionSendRecv
}

// nullAddress reports whether the connection address in force (the
// media's, else the session's) is 0.0.0.0.
func nullAddress(m, session *sdp.ConnectionInformation) bool {
	c := m
	if c == nil || c.Address == nil {
		c = session
	}
	return c != nil && c.Address != nil && c.Address.Address == "0.0.0.0"
}
