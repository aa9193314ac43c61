// Package rtpep is the plain RTP media endpoint (RTP/AVP) for desk phones
// and SIP trunks: lean SDP offer/answer with G.711 (PCMU/PCMA) and
// telephone-event, symmetric RTP with latching, a jitter buffer and a 20 ms
// playout clock on receive, RFC 4733 DTMF both ways, and basic RTCP.
//
// An Endpoint binds one RTP/RTCP port pair (from a PortPool, or chosen by
// the OS) and runs three goroutines until Close: the RTP receiver, the
// RTCP receiver and the playout clock, plus a DTMF sender that is idle
// unless SendDTMF queued digits.
//
// RFCs: RFC 3550 (RTP/RTCP), RFC 3551 (audio/video profile, static
// payload types), RFC 3264 (offer/answer, hold by direction attributes),
// RFC 4566 (SDP), RFC 4733 (telephone-event), RFC 4961 (symmetric RTP).
package rtpep
