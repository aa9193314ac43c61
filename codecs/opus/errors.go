package opus

import "errors"

var (
	// ErrConfig is returned by NewEncoder and NewDecoder for a Config
	// outside the documented ranges.
	ErrConfig = errors.New("opus: bad config")
	// ErrFrameSize is returned when the PCM given to Encode is not one
	// 20 ms frame at the configured rate.
	ErrFrameSize = errors.New("opus: pcm is not one 20 ms frame")
	// ErrShortBuffer is returned when dst cannot hold the output.
	ErrShortBuffer = errors.New("opus: short buffer")
	// ErrPayload is returned for a payload libopus cannot decode; the
	// libopus error is wrapped too.
	ErrPayload = errors.New("opus: bad payload")
)
