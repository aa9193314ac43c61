// Package recording writes a bridged call to a stereo WAV file as it goes:
// the caller on the left channel, the callee on the right, 16-bit PCM at
// 8000 Hz. A Recorder owns the file and a writer goroutine; a Tap is a
// media.Sink (and media.PayloadSink) placed in front of a leg's sink, so
// the audio relayed to that leg is also recorded, decoded on the tap when
// the bridge passes payloads through undecoded.
//
// Both channels are laid on the wall clock: a channel that goes quiet
// (hold, a peer that stops sending) records silence and the two stay in
// step. The media path never waits for the disk: a tap copies a frame into
// a ring under a short lock and the writer drains it every 250 ms, writing
// the samples and patching the RIFF header in place, so a process killed
// mid-call leaves a valid file holding all but the last half second or so.
//
// The file format is RIFF/WAVE (Microsoft/IBM multimedia spec, WAVE_FORMAT_PCM);
// the codecs on the tap are G.711 (ITU-T G.711) and Opus (RFC 6716, RFC 7587).
package recording
