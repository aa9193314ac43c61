// Package rtpep is the plain RTP media endpoint (RTP/AVP) for desk phones
// and SIP trunks: lean SDP offer/answer with G.711 (PCMU/PCMA), Opus when
// configured, and telephone-event, symmetric RTP with latching, a jitter
// buffer and a 20 ms playout clock on receive, RFC 4733 DTMF both ways,
// and basic RTCP.
//
// The PCM side is 8000 Hz mono in 20 ms frames whatever the codec. Opus is
// encoded and decoded at 8 kHz (in-band FEC sent; a lost packet is
// recovered from the next one's FEC data when held, else concealed by
// libopus) while its RTP clock is 48000 Hz: 960 per frame, and
// telephone-event/48000 goes with it. G.711 payloads may be relayed
// undecoded to a media.PayloadSink: 20 ms packets are cut through, sent on
// arrival without the jitter buffer (the far end's absorbs the jitter, as
// with rtpengine); Opus is always decoded and encoded.
//
// An Endpoint binds one RTP/RTCP port pair (from a PortPool, or chosen by
// the OS) and runs three goroutines until Close: the RTP receiver, the
// RTCP receiver and the playout clock, plus a DTMF sender that is idle
// unless SendDTMF queued digits.
//
// RFCs: RFC 3550 (RTP/RTCP), RFC 3551 (audio/video profile, static
// payload types), RFC 3264 (offer/answer, hold by direction attributes),
// RFC 4566 (SDP), RFC 4733 (telephone-event), RFC 4961 (symmetric RTP),
// RFC 7587 (Opus RTP payload format).
package rtpep
