package media

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/sounds"
)

// playSink keeps copies of the frames written to it.
type playSink struct {
	rate   int
	err    error
	mu     sync.Mutex
	frames [][]int16
	onKeep func(n int) // called with the number of frames kept
}

func (s *playSink) WriteFrame(pcm []int16) error {
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	s.frames = append(s.frames, slices.Clone(pcm))
	n := len(s.frames)
	s.mu.Unlock()
	if s.onKeep != nil {
		s.onKeep(n)
	}
	return nil
}

func (s *playSink) Rate() int      { return s.rate }
func (s *playSink) String() string { return "frames" }

func playRamp(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(i + 1)
	}
	return pcm
}

func fastPlayer(dst Sink) *Player {
	pl := NewPlayer(dst)
	pl.interval = 50 * time.Microsecond
	return pl
}

func TestPlayFrames(t *testing.T) {
	tests := []struct {
		name       string
		prompt     *sounds.Prompt
		sinkRate   int
		wantFrames int
		check      func(t *testing.T, all []int16)
	}{
		{"same rate, last frame padded", &sounds.Prompt{Name: "ramp", Rate: 8000, PCM: playRamp(400)}, 8000, 3,
			func(t *testing.T, all []int16) {
				if !slices.Equal(all[:400], playRamp(400)) {
					t.Error("samples changed")
				}
				if slices.ContainsFunc(all[400:], func(v int16) bool { return v != 0 }) {
					t.Error("padding is not silence")
				}
			}},
		{"exact frames", &sounds.Prompt{Rate: 16000, PCM: playRamp(640)}, 16000, 2, nil},
		{"48 kHz prompt into an 8 kHz sink", &sounds.Prompt{Rate: 48000, PCM: make([]int16, 48000)}, 8000, 50, nil},
		{"8 kHz prompt into a 48 kHz sink", &sounds.Prompt{Rate: 8000, PCM: make([]int16, 4000)}, 48000, 25, nil},
		{"empty prompt plays nothing", &sounds.Prompt{Rate: 8000}, 8000, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := &playSink{rate: tt.sinkRate}
			if err := fastPlayer(dst).Play(context.Background(), tt.prompt); err != nil {
				t.Fatal(err)
			}
			if len(dst.frames) != tt.wantFrames {
				t.Fatalf("%d frames, want %d", len(dst.frames), tt.wantFrames)
			}
			var all []int16
			for _, f := range dst.frames {
				if len(f) != FrameSamples(tt.sinkRate) {
					t.Fatalf("frame of %d samples", len(f))
				}
				all = append(all, f...)
			}
			if tt.check != nil {
				tt.check(t, all)
			}
		})
	}
}

func TestPlayErrors(t *testing.T) {
	sinkErr := errors.New("socket closed")
	ok := &sounds.Prompt{Name: "p", Rate: 8000, PCM: playRamp(1600)}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		prompt *sounds.Prompt
		dst    Sink
		want   error
	}{
		{"nil prompt", context.Background(), nil, &playSink{rate: 8000}, ErrBadPrompt},
		{"nil sink", context.Background(), ok, nil, ErrBadPrompt},
		{"sink without rate", context.Background(), ok, &playSink{}, ErrBadPrompt},
		{"prompt without rate", context.Background(), &sounds.Prompt{PCM: playRamp(10)}, &playSink{rate: 8000}, ErrBadPrompt},
		{"prompt rate unsupported", context.Background(), &sounds.Prompt{Rate: 8001, PCM: playRamp(10)}, &playSink{rate: 8000}, ErrUnsupportedRate},
		{"sink error", context.Background(), ok, &playSink{rate: 8000, err: sinkErr}, sinkErr},
		{"context already done", cancelled, ok, &playSink{rate: 8000}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.dst == nil {
				err = Play(tt.ctx, tt.prompt, nil)
			} else {
				err = fastPlayer(tt.dst).Play(tt.ctx, tt.prompt)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPlayInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dst := &playSink{rate: 8000, onKeep: func(n int) {
		if n == 3 {
			cancel()
		}
	}}
	p := &sounds.Prompt{Rate: 8000, PCM: playRamp(8000)}
	if err := fastPlayer(dst).Play(ctx, p); !errors.Is(err, context.Canceled) || err != ctx.Err() {
		t.Fatalf("err = %v, want ctx.Err()", err)
	}
	if len(dst.frames) != 3 {
		t.Errorf("%d frames written after cancel at 3", len(dst.frames))
	}
}

// TestPlayPacing plays five frames at the real frame rate: it cannot be
// faster than real time (a ticker never fires early).
func TestPlayPacing(t *testing.T) {
	dst := &playSink{rate: 8000}
	start := time.Now()
	if err := Play(context.Background(), &sounds.Prompt{Rate: 8000, PCM: playRamp(5 * 160)}, dst); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 5*FrameDuration-time.Millisecond {
		t.Errorf("5 frames played in %v", d)
	}
}

// TestPlayNoAllocsPerFrame: a Player reuses its frame, so a long prompt
// costs no more allocations than a short one.
func TestPlayNoAllocsPerFrame(t *testing.T) {
	dst := playDiscard{rate: 8000}
	pl := fastPlayer(dst)
	short := &sounds.Prompt{Rate: 8000, PCM: playRamp(2 * 160)}
	long := &sounds.Prompt{Rate: 8000, PCM: playRamp(40 * 160)}
	ctx := context.Background()
	a := testing.AllocsPerRun(5, func() { _ = pl.Play(ctx, short) })
	b := testing.AllocsPerRun(5, func() { _ = pl.Play(ctx, long) })
	if b > a {
		t.Errorf("allocations grow with length: %v for 2 frames, %v for 40", a, b)
	}
}

type playDiscard struct{ rate int }

func (d playDiscard) WriteFrame([]int16) error { return nil }
func (d playDiscard) Rate() int                { return d.rate }
func (d playDiscard) String() string           { return "discard" }
