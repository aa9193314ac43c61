// Package media is the PCM core of the softswitch: 20 ms mono frames flow
// from one endpoint's receive goroutine through sinks (rate adapters,
// gates, prompt players) into the other endpoint. Endpoints (plain RTP in
// media/rtpep, WebRTC in media/webrtcep) negotiate their own SDP.
//
// RFCs: RFC 3550 (RTP), RFC 3551 (audio profile), RFC 4733 (DTMF events),
// RFC 3264 (offer/answer, via the endpoints).
package media
