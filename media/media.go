package media

import (
	"context"
	"time"
)

// FrameDuration is the length of every frame in the core.
const FrameDuration = 20 * time.Millisecond

// FrameSamples returns the samples in one frame at rate Hz.
func FrameSamples(rate int) int { return rate / 50 }

// Sink consumes 20 ms mono int16 PCM frames at its Rate. WriteFrame is
// called from one goroutine at a time, must not block on the network for
// long, and must not retain pcm after it returns.
type Sink interface {
	WriteFrame(pcm []int16) error
	Rate() int
	String() string
}

// PayloadSink is implemented by sinks that can take an encoded frame as it
// is: when both sides negotiated the same codec, a relay passes payloads
// without decoding. WritePayload returns false when it cannot take codec
// now, in which case the caller decodes and uses WriteFrame; saying no
// must be cheap (no lock), since a transcoding leg asks for every frame.
type PayloadSink interface {
	// Takes reports, without taking a lock, whether WritePayload would
	// take codec now.
	Takes(codec Codec) bool
	WritePayload(codec Codec, payload []byte) (bool, error)
}

// EventKind tells what an Event reports.
type EventKind int

const (
	// EventDTMF is a digit received (RFC 4733 or SIP INFO), reported once at its end.
	EventDTMF EventKind = iota + 1
	// EventTimeout means no media arrived for the endpoint's RTP timeout.
	EventTimeout
)

// Event is something an endpoint noticed.
type Event struct {
	Kind     EventKind
	Digit    rune          // '0'-'9', '*', '#', 'A'-'D' for EventDTMF
	Duration time.Duration // of the digit
}

// Endpoint is one leg's media: it negotiates SDP with its own peer,
// receives into the Sink set with SetAudioOutput, and sends what is
// written to AudioSink. Answer may be called again for a re-INVITE
// (hold, address change) without disturbing the other leg.
type Endpoint interface {
	Offer(ctx context.Context) ([]byte, error)
	Answer(ctx context.Context, offer []byte) ([]byte, error)
	Accept(ctx context.Context, answer []byte) error
	AudioSink() Sink
	SetAudioOutput(s Sink)
	SendDTMF(digit rune, d time.Duration) error
	Events() <-chan Event
	Codec() string // negotiated codec, e.g. "PCMU"; "" before negotiation
	// SetRate sets the PCM rate of Opus frames (AudioSink and output):
	// 8000, 12000, 16000, 24000 or 48000. A bridge sets the rate of the
	// leg facing G.711 to 8000, so that no resampler runs. G.711 frames
	// are always 8000 Hz.
	SetRate(rate int) error
	Close() error
}
