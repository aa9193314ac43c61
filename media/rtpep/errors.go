package rtpep

import (
	"errors"
	"fmt"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/stream"
)

var (
	// ErrNoCommonCodec means the peer's SDP has no usable audio stream or
	// none of our codecs; a SIP leg answers 488 Not Acceptable Here.
	ErrNoCommonCodec = fmt.Errorf("rtpep: %w", media.ErrNoCommonCodec)
	// ErrBadSDP reports SDP that cannot be parsed or is inconsistent.
	ErrBadSDP = fmt.Errorf("rtpep: %w", media.ErrBadSDP)
	// ErrNoOffer means Accept was called without a pending Offer.
	ErrNoOffer = errors.New("rtpep: no offer pending")
	// ErrClosed is returned by an endpoint after Close.
	ErrClosed = fmt.Errorf("rtpep: endpoint %w", media.ErrClosed)
	// ErrPortsExhausted means no RTP/RTCP port pair could be bound.
	ErrPortsExhausted = errors.New("rtpep: no free rtp port")
	// ErrConfig reports an unusable Config or port range.
	ErrConfig = errors.New("rtpep: bad config")
	// ErrNoTelephoneEvent means the peer did not negotiate telephone-event.
	ErrNoTelephoneEvent = stream.ErrNoTelephoneEvent
	// ErrBadDigit is returned by SendDTMF for a rune that is not a DTMF digit.
	ErrBadDigit = stream.ErrBadDigit
	// ErrDTMFQueueFull is returned by SendDTMF when too many digits wait.
	ErrDTMFQueueFull = stream.ErrDTMFQueueFull
	// ErrFrameSize is returned by the audio sink for a frame that is not 20 ms.
	ErrFrameSize = stream.ErrFrameSize
	// ErrNoPeer means a packet was sent before the peer's address was known.
	ErrNoPeer = errors.New("rtpep: no peer address")
)
