// Package recording writes a bridged call to a stereo file as it goes:
// the caller on the left channel, the callee on the right, at 8000 Hz,
// as WAV (16-bit PCM, the header patched after every write) or as Opus in
// Ogg (two uncoupled mono streams, so neither party leaks into the
// other's channel; one page per write). A Recorder owns the file and a
// writer goroutine; a Tap is a
// media.Sink (and media.PayloadSink) placed in front of a leg's sink, so
// the audio relayed to that leg is also recorded, decoded on the tap when
// the bridge passes payloads through undecoded.
//
// Both channels are laid on the wall clock: a channel that goes quiet
// (hold, a peer that stops sending) records silence and the two stay in
// step. The media path never waits for the disk: a tap copies a frame into
// a ring under a short lock and the writer drains it every 250 ms into
// the file, so a process killed mid-call leaves a valid file holding all
// but the last half second or so.
//
// Formats: RIFF/WAVE (WAVE_FORMAT_PCM); Ogg (RFC 3533) encapsulating Opus
// (RFC 7845, channel mapping family 1; multistream packets with the
// self-delimiting framing of RFC 6716 appendix B). The codecs on the tap
// are G.711 (ITU-T G.711) and Opus (RFC 6716, RFC 7587).
package recording
