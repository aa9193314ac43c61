package media

import (
	"errors"
	"fmt"
)

// DTMFEventSize is the size of one RFC 4733 telephone-event payload.
const DTMFEventSize = 4

// ErrDTMFPayload reports a telephone-event payload that cannot be parsed.
var ErrDTMFPayload = errors.New("media: bad telephone-event payload")

// DTMFEvent is one RFC 4733 §2.3 telephone-event payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Volume is the power level in -dBm0 (0-63); Duration is in RTP timestamp
// units since the start of the event (the RTP timestamp of the packet).
type DTMFEvent struct {
	Event    uint8
	End      bool
	Volume   uint8
	Duration uint16
}

// ParseDTMF parses the first event of a telephone-event payload. Extra
// bytes (redundant events, RFC 4733 §2.5.1.5) are ignored; the reserved
// bit is ignored as the RFC requires of receivers.
func ParseDTMF(payload []byte) (DTMFEvent, error) {
	if len(payload) < DTMFEventSize {
		return DTMFEvent{}, fmt.Errorf("parse telephone-event: %d bytes: %w", len(payload), ErrDTMFPayload)
	}
	return DTMFEvent{
		Event:    payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: uint16(payload[2])<<8 | uint16(payload[3]),
	}, nil
}

// Marshal writes e into dst and returns the bytes written: DTMFEventSize,
// or 0 when dst is too short. Volume is truncated to its 6 bits and the
// reserved bit is sent as zero.
func (e DTMFEvent) Marshal(dst []byte) int {
	if len(dst) < DTMFEventSize {
		return 0
	}
	dst[0] = e.Event
	dst[1] = e.Volume & 0x3f
	if e.End {
		dst[1] |= 0x80
	}
	dst[2] = byte(e.Duration >> 8)
	dst[3] = byte(e.Duration)
	return DTMFEventSize
}

// DigitToEvent maps a DTMF digit to its RFC 4733 §3.2 event code:
// '0'-'9' are 0-9, '*' is 10, '#' is 11 and 'A'-'D' (or 'a'-'d') are 12-15.
func DigitToEvent(r rune) (uint8, bool) {
	switch {
	case r >= '0' && r <= '9':
		return uint8(r - '0'), true
	case r == '*':
		return 10, true
	case r == '#':
		return 11, true
	case r >= 'A' && r <= 'D':
		return uint8(r-'A') + 12, true
	case r >= 'a' && r <= 'd':
		return uint8(r-'a') + 12, true
	}
	return 0, false
}

// EventToDigit maps an RFC 4733 DTMF event code (0-15) to its digit; other
// events (flash, tones) report false.
func EventToDigit(ev uint8) (rune, bool) {
	switch {
	case ev <= 9:
		return rune('0' + ev), true
	case ev == 10:
		return '*', true
	case ev == 11:
		return '#', true
	case ev <= 15:
		return rune('A' + ev - 12), true
	}
	return 0, false
}
