package media

import "errors"

// ErrClosed is wrapped by the errors an endpoint returns after Close
// (rtpep.ErrClosed, webrtcep.ErrClosed), so a caller that knows no
// concrete endpoint can tell "the leg has gone" from a real failure.
var ErrClosed = errors.New("closed")

// ErrNoCommonCodec is wrapped by an endpoint's Answer or Accept when the
// peer's SDP has no codec we can use: a SIP leg answers 488.
var ErrNoCommonCodec = errors.New("no common codec")
