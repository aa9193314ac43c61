// Package codecs defines the audio codec contract shared by the media core:
// an Encoder turns one 20 ms PCM frame into a payload, a Decoder turns a
// payload back into PCM. Implementations live in sub-packages (g711, opus)
// and allocate nothing per frame.
package codecs

// Encoder encodes one frame of mono int16 PCM into dst and returns the
// number of bytes written.
type Encoder interface {
	Encode(dst []byte, pcm []int16) (int, error)
}

// Decoder decodes one payload into dst and returns the number of samples
// written. A nil payload asks for loss concealment of one frame.
type Decoder interface {
	Decode(dst []int16, payload []byte) (int, error)
}
