// Package opus encodes and decodes Opus voice frames through libopus
// (github.com/hraban/opus, cgo), allocating nothing per frame.
//
// An Encoder takes one 20 ms frame of mono int16 PCM at the configured
// rate (8, 12, 16, 24 or 48 kHz; libopus resamples internally) and a
// Decoder gives one back, so Opus ↔ PCMU needs no resampler: run both at
// 8000 Hz. Whatever the PCM rate, the RTP clock of Opus is 48000 Hz
// (ClockRate). A lost packet is concealed by libopus PLC, or recovered
// from the in-band FEC carried by the next packet (Decoder.DecodeFEC).
//
// Standards: RFC 6716 (Opus codec), RFC 7587 (RTP payload format for
// Opus: 48 kHz clock, "opus/48000/2" in SDP whatever is sent).
package opus
