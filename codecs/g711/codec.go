package g711

import (
	"fmt"
	"strings"

	"github.com/softswitch/softswitch/codecs"
)

// Codec names as they appear in SDP (RFC 3551).
const (
	PCMU = "PCMU"
	PCMA = "PCMA"
)

// law is one companding law, named as in SDP.
type law struct {
	name string
	ulaw bool
}

func lookup(name string) (law, error) {
	switch {
	case strings.EqualFold(name, PCMU):
		return law{name: PCMU, ulaw: true}, nil
	case strings.EqualFold(name, PCMA):
		return law{name: PCMA}, nil
	}
	return law{}, fmt.Errorf("codec %q: %w", name, ErrUnknownCodec)
}

func (l law) encode(dst []byte, pcm []int16) int {
	if l.ulaw {
		return EncodeULaw(dst, pcm)
	}
	return EncodeALaw(dst, pcm)
}

func (l law) decode(dst []int16, payload []byte) int {
	if l.ulaw {
		return DecodeULaw(dst, payload)
	}
	return DecodeALaw(dst, payload)
}

// Encoder encodes frames with one G.711 law. It keeps no state between
// frames and is safe for concurrent use.
type Encoder struct {
	law law
}

var _ codecs.Encoder = (*Encoder)(nil)

// NewEncoder returns an encoder for "PCMU" or "PCMA" (case-insensitive).
func NewEncoder(name string) (codecs.Encoder, error) {
	l, err := lookup(name)
	if err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	return &Encoder{law: l}, nil
}

// Encode encodes pcm into dst, one byte per sample. It fails with
// ErrShortBuffer, writing nothing, when dst is shorter than pcm.
func (e *Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(dst) < len(pcm) {
		return 0, fmt.Errorf("%s encode %d samples into %d bytes: %w", e.law.name, len(pcm), len(dst), ErrShortBuffer)
	}
	return e.law.encode(dst, pcm), nil
}

// String names the stage, e.g. "PCMU(encode)".
func (e *Encoder) String() string { return e.law.name + "(encode)" }
