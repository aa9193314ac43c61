// Package mediatest is the conformance suite of media.Endpoint: the same
// checks run against every transport (media/rtpep's plain RTP and
// media/webrtcep's DTLS-SRTP), each driven by a Peer on the endpoint's
// own wire — a phone's UDP socket, a browser's PeerConnection. What the
// suite checks is what media/stream does for both: audio in and out,
// RFC 4733 both ways in the audio's SSRC and sequence space, and the
// added latency of a call bridged to a phone, per direction.
package mediatest
