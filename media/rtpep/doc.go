// Package rtpep is the plain RTP media endpoint (RTP/AVP) for desk phones
// and SIP trunks: lean SDP offer/answer with G.711 (PCMU/PCMA), Opus when
// configured, and telephone-event, strict-source latching, and basic
// RTCP. The RTP stream itself (codecs, reordering, concealment, RFC 4733
// both ways, the send clock) is media/stream's, shared with webrtcep.
//
// The PCM side is 8000 Hz mono in 20 ms frames by default (SetRate changes
// Opus's). Opus's RTP clock is 48000 Hz: 960 per frame, and
// telephone-event/48000 goes with it. Payloads in the codec the other leg
// sends are relayed undecoded on arrival (G.711 and Opus).
//
// An Endpoint binds one RTP/RTCP port pair (from a PortPool at a random
// pair, or chosen by the OS) and runs two goroutines until Close: the RTP
// receiver, which also wakes for the stream's deadlines (a gap to
// conceal, a digit's expiry, the RTP timeout), and the RTCP receiver; the
// stream's DTMF sender is idle unless SendDTMF queued digits.
//
// Latching (symmetric RTP, RFC 4961) is strict source with learning only
// behind a NAT, ranked as rtpengine's heuristic: the SDP's address, its
// host on another port, the host the peer's SIP comes from
// (Config.SignalIP), anyone (after 1 s, when that SIP host is public); a
// higher rank takes over at once, an equal or lower one after 2 s of
// silence. See peer in send.go.
//
// RFCs: RFC 3550 (RTP/RTCP), RFC 3551 (audio/video profile, static
// payload types), RFC 3264 (offer/answer, hold by direction attributes),
// RFC 4566 (SDP), RFC 4733 (telephone-event), RFC 4961 (symmetric RTP),
// RFC 7587 (Opus RTP payload format).
package rtpep
