package opus

import (
	"errors"
	"fmt"

	libopus "github.com/hraban/opus"

	"github.com/softswitch/softswitch/codecs"
)

// Decoder decodes Opus payloads into mono PCM and conceals lost frames.
// It keeps libopus state between frames, so one Decoder serves one
// stream and is not safe for concurrent use.
type Decoder struct {
	dec    *libopus.Decoder
	frame  int     // samples per 20 ms frame
	stereo []int16 // interleaved scratch for a 2-channel decoder, nil for mono
	name   string
}

var _ codecs.Decoder = (*Decoder)(nil)

// NewDecoder returns a decoder for cfg; only Rate and Channels matter.
// It fails with ErrConfig when cfg is out of range.
func NewDecoder(cfg Config) (*Decoder, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	dec, err := libopus.NewDecoder(s.rate, s.channels)
	if err != nil {
		return nil, fmt.Errorf("new decoder: %w", err)
	}
	d := &Decoder{dec: dec, frame: s.frameSamples(), name: s.name("decode")}
	if s.channels == 2 {
		// Room for the longest packet, so any valid one decodes.
		d.stereo = make([]int16, 2*s.rate*maxPacketMillis/1000)
	}
	return d, nil
}

// Decode decodes payload into dst and returns the number of samples, one
// 20 ms frame (Rate/50) for the usual packet. A nil payload conceals one
// lost 20 ms frame with libopus PLC. It fails with ErrShortBuffer when
// dst cannot hold the decoded audio and with ErrPayload for an empty or
// malformed payload.
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	if payload == nil {
		return d.conceal(dst)
	}
	if len(payload) == 0 {
		return 0, fmt.Errorf("decode empty payload: %w", ErrPayload)
	}
	if len(dst) == 0 {
		return 0, fmt.Errorf("decode into empty dst: %w", ErrShortBuffer)
	}
	if d.stereo == nil {
		// The full slice expression stops libopus writing past len(dst).
		n, err := d.dec.Decode(payload, dst[:len(dst):len(dst)])
		if err != nil {
			return 0, decodeError("decode", len(payload), err)
		}
		return n, nil
	}
	m := 2 * min(len(dst), len(d.stereo)/2)
	n, err := d.dec.Decode(payload, d.stereo[:m:m])
	if err != nil {
		return 0, decodeError("decode", len(payload), err)
	}
	return downmix(dst, d.stereo[:2*n]), nil
}

// DecodeFEC recovers the 20 ms frame lost just before next from the
// in-band FEC data in next, writes it to dst and returns its length.
// Where next carries no FEC data, libopus conceals the frame as Decode
// with a nil payload does; an empty next does the same. next itself is
// not consumed: Decode it afterwards as usual. It fails with
// ErrShortBuffer when dst is shorter than a frame and with ErrPayload for
// a malformed next.
func (d *Decoder) DecodeFEC(dst []int16, next []byte) (int, error) {
	if len(next) == 0 {
		return d.conceal(dst)
	}
	n := d.frame
	if len(dst) < n {
		return 0, fmt.Errorf("decode fec %d samples into %d: %w", n, len(dst), ErrShortBuffer)
	}
	if d.stereo == nil {
		if err := d.dec.DecodeFEC(next, dst[:n:n]); err != nil {
			return 0, decodeError("decode fec", len(next), err)
		}
		return n, nil
	}
	if err := d.dec.DecodeFEC(next, d.stereo[:2*n:2*n]); err != nil {
		return 0, decodeError("decode fec", len(next), err)
	}
	return downmix(dst, d.stereo[:2*n]), nil
}

// conceal writes one 20 ms frame of libopus PLC to dst.
func (d *Decoder) conceal(dst []int16) (int, error) {
	n := d.frame
	if len(dst) < n {
		return 0, fmt.Errorf("conceal %d samples into %d: %w", n, len(dst), ErrShortBuffer)
	}
	if d.stereo == nil {
		if err := d.dec.DecodePLC(dst[:n:n]); err != nil {
			return 0, fmt.Errorf("conceal: %w", err)
		}
		return n, nil
	}
	if err := d.dec.DecodePLC(d.stereo[: 2*n : 2*n]); err != nil {
		return 0, fmt.Errorf("conceal: %w", err)
	}
	return downmix(dst, d.stereo[:2*n]), nil
}

// decodeError wraps a libopus decode error as ErrShortBuffer or ErrPayload.
func decodeError(op string, size int, err error) error {
	if errors.Is(err, libopus.ErrBufferTooSmall) {
		return fmt.Errorf("%s %d bytes: %w: %w", op, size, ErrShortBuffer, err)
	}
	return fmt.Errorf("%s %d bytes: %w: %w", op, size, ErrPayload, err)
}

// String names the stage, e.g. "Opus(decode,8k)".
func (d *Decoder) String() string { return d.name }
