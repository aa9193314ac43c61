package webrtcep

import (
	"errors"
	"fmt"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/stream"
)

var (
	// ErrConfig reports an unusable Config or rate.
	ErrConfig = errors.New("webrtcep: bad config")
	// ErrClosed is returned by a Factory or an Endpoint after Close.
	ErrClosed = fmt.Errorf("webrtcep: %w", media.ErrClosed)
	// ErrNoOffer means Accept was called without a pending Offer.
	ErrNoOffer = errors.New("webrtcep: no offer pending")
	// ErrNegotiation wraps a failure of pion to set or create a description
	// (bad SDP, no common codec, wrong state).
	ErrNegotiation = errors.New("webrtcep: negotiation failed")
	// ErrNoTelephoneEvent means the peer did not negotiate telephone-event.
	ErrNoTelephoneEvent = stream.ErrNoTelephoneEvent
	// ErrNoCommonCodec means the browser's SDP has none of our codecs.
	ErrNoCommonCodec = fmt.Errorf("webrtcep: %w", media.ErrNoCommonCodec)
	// ErrBadDigit is returned by SendDTMF for a rune that is not a DTMF digit.
	ErrBadDigit = stream.ErrBadDigit
	// ErrDTMFQueueFull is returned by SendDTMF when too many digits wait.
	ErrDTMFQueueFull = stream.ErrDTMFQueueFull
	// ErrFrameSize is returned by the audio sink for a frame that is not
	// 20 ms at its rate.
	ErrFrameSize = stream.ErrFrameSize
)
