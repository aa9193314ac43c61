package media

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/softswitch/softswitch/sounds"
)

// ErrBadPrompt is returned for a prompt or sink that cannot be played
// (no rate, or an unsupported one).
var ErrBadPrompt = errors.New("media: prompt cannot be played")

// Player plays prompts into one Sink in real time: one 20 ms frame per
// 20 ms. It owns one frame buffer, reused for every frame and prompt, so
// playing allocates only when a prompt is converted to the sink's rate.
// A Player plays one prompt at a time.
type Player struct {
	dst      Sink
	frame    []int16
	interval time.Duration // FrameDuration; tests shorten it
}

// NewPlayer returns a Player writing into dst.
func NewPlayer(dst Sink) *Player {
	return &Player{dst: dst, interval: FrameDuration}
}

// Play plays p into dst and returns when it has played; see Player.Play.
func Play(ctx context.Context, p *sounds.Prompt, dst Sink) error {
	return NewPlayer(dst).Play(ctx, p)
}

// Play converts p once to the sink's rate, then writes it frame by frame
// at real-time pace, padding the last frame with silence. It returns nil
// one frame time after the last frame was written (so prompts played
// back to back keep the pace), ctx.Err() when ctx ends first, or the
// sink's error.
func (pl *Player) Play(ctx context.Context, p *sounds.Prompt) error {
	if p == nil || pl.dst == nil {
		return fmt.Errorf("play: nil prompt or sink: %w", ErrBadPrompt)
	}
	rate := pl.dst.Rate()
	size := FrameSamples(rate)
	if size <= 0 {
		return fmt.Errorf("play %q into %s: sink rate %d: %w", p.Name, pl.dst, rate, ErrBadPrompt)
	}
	pcm := p.PCM
	if p.Rate != rate {
		var err error
		if pcm, err = ResampleAll(p.PCM, p.Rate, rate); err != nil {
			return fmt.Errorf("play %q: %w: %w", p.Name, ErrBadPrompt, err)
		}
	}
	if len(pcm) == 0 {
		return nil
	}
	if cap(pl.frame) < size {
		pl.frame = make([]int16, size)
	}
	frame := pl.frame[:size]

	ticker := time.NewTicker(pl.interval)
	defer ticker.Stop()
	for off := 0; off < len(pcm); off += size {
		if err := ctx.Err(); err != nil { // a tick and ctx.Done may be ready together
			return err
		}
		n := copy(frame, pcm[off:])
		clear(frame[n:])
		if err := pl.dst.WriteFrame(frame); err != nil {
			return fmt.Errorf("play %q into %s: %w", p.Name, pl.dst, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
	return nil
}
