package g711

import "errors"

var (
	// ErrUnknownCodec is returned for a codec name other than PCMU or PCMA.
	ErrUnknownCodec = errors.New("g711: unknown codec")
	// ErrShortBuffer is returned when dst cannot hold the whole frame.
	ErrShortBuffer = errors.New("g711: short buffer")
)
