package opus

import (
	"errors"
	"fmt"

	libopus "github.com/hraban/opus"

	"github.com/softswitch/softswitch/codecs"
)

// Encoder encodes 20 ms frames of mono PCM into Opus payloads. It keeps
// libopus state between frames, so one Encoder serves one stream and is
// not safe for concurrent use.
type Encoder struct {
	enc   *libopus.Encoder
	frame int // samples per 20 ms frame
	name  string
	set   settings // as configured; SetLoss changes fec and bitrate
}

var _ codecs.Encoder = (*Encoder)(nil)

// NewEncoder returns a VoIP-tuned encoder for cfg. It fails with
// ErrConfig when cfg is out of range.
func NewEncoder(cfg Config) (*Encoder, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	// Mono whatever cfg.Channels: a stereo peer decodes mono packets.
	enc, err := libopus.NewEncoder(s.rate, 1, libopus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	if err := configure(enc, s); err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	return &Encoder{enc: enc, frame: s.frameSamples(), name: s.name("encode"), set: s}, nil
}

// SetLoss tunes in-band FEC to the packet loss the receiver reports, in
// percent (RTCP's fraction lost), as WebRTC's own encoders do: FEC off at
// 0 (it costs 30-65 % more encoding and about twice the bitrate at
// 8 kHz), on above it, told the loss so libopus sizes the redundancy
// (at least 1 %, at most 30 %), with the bitrate raised to leave room for
// it below 24 kHz. A bitrate set in the Config is kept.
func (e *Encoder) SetLoss(percent int) error {
	on := percent > 0
	if on == e.set.fec && (!on || percent == e.set.loss) {
		return nil
	}
	s := e.set
	s.fec, s.loss = on, min(max(percent, 1), 30)
	if !on {
		s.loss = 0
	}
	if err := e.enc.SetInBandFEC(on); err != nil {
		return fmt.Errorf("set in-band fec: %w", err)
	}
	if err := e.enc.SetPacketLossPerc(s.loss); err != nil {
		return fmt.Errorf("set packet loss %d%%: %w", s.loss, err)
	}
	if s.autoBitrate {
		var err error
		if on && autoBitrateBase+s.rate < fecBitrate {
			s.bitrate, err = fecBitrate, e.enc.SetBitrate(fecBitrate)
		} else {
			s.bitrate, err = 0, e.enc.SetBitrateToAuto()
		}
		if err != nil {
			return fmt.Errorf("set bitrate: %w", err)
		}
	}
	e.set = s
	return nil
}

// configure applies the encoder settings of s to enc.
func configure(enc *libopus.Encoder, s settings) error {
	if err := enc.SetComplexity(s.complexity); err != nil {
		return fmt.Errorf("set complexity %d: %w", s.complexity, err)
	}
	if s.bitrate != 0 {
		if err := enc.SetBitrate(s.bitrate); err != nil {
			return fmt.Errorf("set bitrate %d: %w", s.bitrate, err)
		}
	}
	if s.fec {
		if err := enc.SetInBandFEC(true); err != nil {
			return fmt.Errorf("set in-band fec: %w", err)
		}
		if err := enc.SetPacketLossPerc(s.loss); err != nil {
			return fmt.Errorf("set packet loss %d%%: %w", s.loss, err)
		}
	}
	return nil
}

// Encode encodes pcm, exactly one 20 ms frame (Rate/50 samples), into
// dst and returns the payload length. len(dst) caps the payload size
// (libopus lowers the bitrate to fit); MaxPayload always suffices. It
// fails with ErrFrameSize for any other pcm length and ErrShortBuffer
// for an empty dst.
func (e *Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	if len(pcm) != e.frame {
		return 0, fmt.Errorf("encode %d samples, want %d: %w", len(pcm), e.frame, ErrFrameSize)
	}
	if len(dst) == 0 {
		return 0, fmt.Errorf("encode into empty dst: %w", ErrShortBuffer)
	}
	// The full slice expression stops libopus writing past len(dst).
	n, err := e.enc.Encode(pcm, dst[:len(dst):len(dst)])
	if err != nil {
		if errors.Is(err, libopus.ErrBufferTooSmall) {
			return 0, fmt.Errorf("encode into %d bytes: %w: %w", len(dst), ErrShortBuffer, err)
		}
		return 0, fmt.Errorf("encode: %w", err)
	}
	return n, nil
}

// String names the stage, e.g. "Opus(encode,8k)".
func (e *Encoder) String() string { return e.name }
