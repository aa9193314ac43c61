// Package stream is the one RTP stream engine of the media core, used by
// both endpoint kinds: media/rtpep (plain RTP over UDP) and
// media/webrtcep (SRTP over pion's DTLS). A transport hands it the
// packets it received and lets it send through a Transport; everything
// between the wire and PCM lives here, once:
//
//   - receive: payload-type demultiplexing, SSRC changes, reordering and
//     loss detection, Opus in-band FEC and PLC, RFC 4733 digit detection,
//     RTP liveness (timeout, hold), statistics;
//   - media on arrival: a payload whose codec the output takes (the same
//     codec on the other leg) is relayed when it arrives; any other is
//     decoded and written to the output at once, re-framed into 20 ms
//     frames, on the receiving goroutine. No playout clock runs: a gap
//     waits GapWait for a late or reordered packet (woken by the read
//     deadline of the transport), then is concealed;
//   - send: one SSRC whose sequence and timestamp space audio and
//     telephone-event share, continuous across prompts, hold and codec
//     changes; the marker bit after a pause; RFC 4733 sending with audio
//     suppressed while an event plays.
//
// The receive side is owned by one goroutine (the transport's reader)
// and takes no lock; the send side takes one lock per packet.
//
// RFCs: RFC 3550 (RTP), RFC 3551 (audio profile), RFC 4733 (telephone
// events), RFC 7587 (Opus in RTP), RFC 6716 (Opus TOC).
package stream
