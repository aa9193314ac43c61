// Package webrtcep is the browser leg's media endpoint: one audio
// m-line over UDP/TLS/RTP/SAVPF per call (and a relayed video m-line
// between two browsers), implementing media.Endpoint.
//
// Two engines (Config.Engine). The lite engine, the default, uses no
// PeerConnection: each call binds its own UDP socket on the configured
// address (port chosen by the OS) and one reader goroutine demultiplexes
// it (RFC 7983): STUN binding requests are answered as an ICE-lite agent
// (USERNAME with our ufrag, MESSAGE-INTEGRITY with our ice-pwd,
// FINGERPRINT; USE-CANDIDATE selects the pair; later checks are RFC 7675
// consent), DTLS records go to pion/dtls (client when we answer actpass
// or the peer is passive, server otherwise; the peer's certificate
// checked against the SDP fingerprint), and SRTP/SRTCP are decrypted with
// pion/srtp contexts keyed from the DTLS export and handed to the stream
// on the reader; sending encrypts on the writer's goroutine, and an SRTCP
// sender report goes out every 5 s. Malformed, unauthenticated or stray
// datagrams are dropped and counted (Stats.Dropped). A call whose
// DTLS handshake does not finish within Config.DTLSTimeout of its start
// (once the ICE pair and the peer's SDP are known: never while our SDP
// waits for the callee) ends with media.EventTimeout and the reason
// logged; a peer that never checks is left to the leg. Its SDP is written by hand
// (lite.go, litesdp.go, liteneg.go): ice-lite, one host candidate,
// sha-256 fingerprint, rtcp-mux, BUNDLE of the audio m-line, the peer's
// other m-lines rejected.
//
// Video (lite engine only; video*.go): a browser's video m-line is
// declined (port 0) unless AcceptVideo allowed its codecs, VP8 and
// non-interleaved Constrained Baseline H.264; OfferVideo puts a video
// m-line in our offers. Accepted video shares the audio's socket (BUNDLE,
// rtcp-mux), with the RTCP feedback nack, nack pli, ccm fir and
// goog-remb and no header extensions. RelayVideo joins two endpoints:
// each video packet is decrypted on the reader of the leg it came from,
// its payload type and SSRC rewritten for the other leg (sequence
// numbers, timestamps and payload untouched, nothing decoded, nothing
// allocated), encrypted with a sending context of its own and sent; the
// browsers' PLI, FIR, NACK, REMB, reception reports and sender reports
// about the video cross the same way with their SSRCs rewritten, so the
// sending browser resends what was lost and encodes keyframes on
// request. We ask for a keyframe ourselves when a relay starts and when a
// browser's video resumes after a pause of 500 ms.
//
// The PeerConnection engine (EnginePeerConnection) is pion/webrtc, kept
// as a fallback; the rest of this comment describes it.
//
// A Factory, one per process, owns the single UDP port all browser media
// shares (ICE UDP mux), the webrtc.API with its hand-registered codecs
// (Opus PT 111 first, PCMU, PCMA, telephone-event at 48000 and 8000 Hz),
// and one DTLS certificate generated at start. Factory.New returns an
// Endpoint: an ICE-lite agent whose SDP carries one host candidate on the
// configured address, DTLS-SRTP with the peer's fingerprint verified
// (setup:actpass when we offer, setup:active when we answer), rtcp-mux
// and BUNDLE. Offers and answers are non-trickle: candidates are gathered
// before the SDP is returned.
//
// Receiving: one goroutine (per remote track, one at a time) reads
// SRTP-decrypted RTP into a reused buffer and hands it to the endpoint's
// media/stream, which demultiplexes, relays or decodes on arrival, and
// conceals gaps; the track's read deadline wakes it for the stream's
// timers. RTCP is read so the report interceptors never stall, and the
// browser's receiver reports tune the Opus encoder's FEC; only the RTCP
// report interceptors are installed (no NACK, no TWCC).
//
// Sending: the stream encodes frames (Opus, with FEC while the browser
// reports loss, or G.711) and writes them through the endpoint's own
// webrtc.TrackLocal, which keeps one SSRC and one sequence space for
// audio and RFC 4733 events, so SendDTMF works (pion's
// TrackLocalStaticRTP would overwrite the payload type).
//
// RFCs: RFC 8829 (JSEP) and RFC 8866 (SDP), RFC 8445 (ICE, lite
// implementation), RFC 5763 and RFC 5764 (DTLS-SRTP), RFC 5761 (rtcp-mux),
// RFC 8843 (BUNDLE), RFC 3550 (RTP/RTCP), RFC 7587 (Opus RTP payload),
// RFC 4733 (telephone-event), RFC 4585 and RFC 5104 (RTCP feedback: NACK,
// PLI, FIR), RFC 7741 (VP8 RTP payload), RFC 6184 (H.264 RTP payload).
package webrtcep
