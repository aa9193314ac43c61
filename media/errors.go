package media

import "errors"

// ErrClosed is wrapped by the errors an endpoint returns after Close
// (rtpep.ErrClosed, webrtcep.ErrClosed), so a caller that knows no
// concrete endpoint can tell "the leg has gone" from a real failure.
var ErrClosed = errors.New("closed")
