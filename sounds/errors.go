package sounds

import "errors"

var (
	// ErrNotFound is returned by Load for a name that is not embedded.
	ErrNotFound = errors.New("sounds: prompt not found")
	// ErrMalformed is returned for data that is not a well-formed RIFF/WAVE file.
	ErrMalformed = errors.New("sounds: malformed wav")
	// ErrUnsupported is returned for a well-formed WAVE file in a format
	// this package does not decode (compressed, float, 24/32-bit, too many channels).
	ErrUnsupported = errors.New("sounds: unsupported wav format")
)
