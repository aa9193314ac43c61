package g711

import (
	"fmt"

	"github.com/softswitch/softswitch/codecs"
)

const (
	// defaultFrameSamples is 20 ms at 8000 Hz, concealed when no frame was seen yet.
	defaultFrameSamples = 160
	// maxConcealed is the number of consecutive lost frames concealed
	// with an attenuated copy of the last frame; later losses are silent.
	maxConcealed = 3
)

// Decoder decodes frames with one G.711 law and conceals lost frames.
// It keeps the last frame, so one Decoder serves one stream and is not
// safe for concurrent use.
type Decoder struct {
	law    law
	last   []int16 // the last frame received, len = its length
	losses int     // consecutive concealed frames
}

var _ codecs.Decoder = (*Decoder)(nil)

// NewDecoder returns a decoder for "PCMU" or "PCMA" (case-insensitive).
func NewDecoder(name string) (codecs.Decoder, error) {
	l, err := lookup(name)
	if err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	return &Decoder{law: l, last: make([]int16, 0, defaultFrameSamples)}, nil
}

// Decode decodes payload into dst and returns the number of samples.
//
// A nil payload conceals one lost frame: the last frame is repeated at
// half its amplitude for the first loss, a quarter for the second, an
// eighth for the third, and silence follows from the fourth consecutive
// loss on. The concealed frame is as long as the last frame received, or
// 160 samples before any. Decode fails with ErrShortBuffer, writing
// nothing, when dst cannot hold the frame.
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	if payload == nil {
		return d.conceal(dst)
	}
	if len(dst) < len(payload) {
		return 0, fmt.Errorf("%s decode %d bytes into %d samples: %w", d.law.name, len(payload), len(dst), ErrShortBuffer)
	}
	n := d.law.decode(dst, payload)
	d.losses = 0
	if n == 0 {
		return 0, nil
	}
	if cap(d.last) < n {
		d.last = make([]int16, n) // grows only when frames get longer
	}
	d.last = d.last[:n]
	copy(d.last, dst[:n])
	return n, nil
}

func (d *Decoder) conceal(dst []int16) (int, error) {
	n := len(d.last)
	if n == 0 {
		n = defaultFrameSamples
	}
	if len(dst) < n {
		return 0, fmt.Errorf("%s conceal %d samples into %d: %w", d.law.name, n, len(dst), ErrShortBuffer)
	}
	if d.losses <= maxConcealed {
		d.losses++
	}
	out := dst[:n]
	if d.losses > maxConcealed || len(d.last) == 0 {
		clear(out)
		return n, nil
	}
	// v / 2^k rounded toward zero, without a division per sample.
	k := uint(d.losses)
	bias := int16(1)<<k - 1
	for i, v := range d.last {
		out[i] = (v + (v>>15)&bias) >> k
	}
	return n, nil
}

// String names the stage, e.g. "PCMU(decode)".
func (d *Decoder) String() string { return d.law.name + "(decode)" }
