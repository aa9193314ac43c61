package media_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// tagSink records the first sample of each frame (used as a tag), takes
// payloads, and fails the test if two writers ever overlap.
type tagSink struct {
	t        *testing.T
	name     string
	rate     int
	inFlight atomic.Int32
	mu       sync.Mutex
	tags     []int16
	payloads int
}

func (s *tagSink) WriteFrame(pcm []int16) error {
	if s.inFlight.Add(1) != 1 {
		s.t.Error("two concurrent WriteFrame calls reached the destination")
	}
	defer s.inFlight.Add(-1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(pcm) > 0 {
		s.tags = append(s.tags, pcm[0])
	}
	return nil
}

// Takes takes PCMU only.
func (s *tagSink) Takes(codec media.Codec) bool { return codec == media.CodecPCMU }

func (s *tagSink) WritePayload(codec media.Codec, payload []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.payloads++
	return s.Takes(codec), nil
}

func (s *tagSink) Rate() int      { return s.rate }
func (s *tagSink) String() string { return s.name }

func (s *tagSink) snapshot() (tags []int16, payloads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.tags...), s.payloads
}

func countTag(tags []int16, tag int16) int {
	n := 0
	for _, v := range tags {
		if v == tag {
			n++
		}
	}
	return n
}

func frameOf(tag int16) []int16 {
	f := make([]int16, 160)
	f[0] = tag
	return f
}

func TestGateSequence(t *testing.T) {
	const normal, prompt = 1, 2
	type step struct {
		do         string // "write", "override", "hold", "release", "release-again"
		wantNormal int    // normal frames at the destination after the step
		wantPrompt int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"open gate forwards", []step{{"write", 1, 0}, {"write", 2, 0}}},
		{"held gate drops, override passes", []step{
			{"write", 1, 0}, {"hold", 1, 0}, {"write", 1, 0}, {"override", 1, 1}, {"release", 1, 1}, {"write", 2, 1},
		}},
		{"override passes when open", []step{{"override", 0, 1}, {"write", 1, 1}}},
		{"nested holds need every release", []step{
			{"hold", 0, 0}, {"hold2", 0, 0}, {"release", 0, 0}, {"write", 0, 0}, {"release-again", 0, 0},
			{"write", 0, 0}, {"release2", 0, 0}, {"write", 1, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := &tagSink{t: t, name: "leg-b", rate: 8000}
			g := media.NewGate(dst)
			var release, release2 func()
			for i, s := range tt.steps {
				switch s.do {
				case "write":
					if err := g.WriteFrame(frameOf(normal)); err != nil {
						t.Fatal(err)
					}
				case "override":
					if err := g.Override().WriteFrame(frameOf(prompt)); err != nil {
						t.Fatal(err)
					}
				case "hold":
					release = g.Hold()
				case "hold2":
					release2 = g.Hold()
				case "release", "release-again":
					release()
				case "release2":
					release2()
				}
				tags, _ := dst.snapshot()
				if n, p := countTag(tags, normal), countTag(tags, prompt); n != s.wantNormal || p != s.wantPrompt {
					t.Fatalf("step %d (%s): normal %d prompt %d, want %d %d", i, s.do, n, p, s.wantNormal, s.wantPrompt)
				}
			}
		})
	}
}

func TestGateTargetAndNames(t *testing.T) {
	a := &tagSink{t: t, name: "leg-a", rate: 8000}
	b := &tagSink{t: t, name: "leg-b", rate: 48000}
	g := media.NewGate(a)
	if g.String() != "gate -> leg-a" || g.Override().String() != "gate(override) -> leg-a" || g.Rate() != 8000 {
		t.Fatalf("String %q, override %q, Rate %d", g.String(), g.Override().String(), g.Rate())
	}
	g.SetTarget(b)
	_ = g.WriteFrame(frameOf(7))
	if g.String() != "gate -> leg-b" || g.Override().Rate() != 48000 {
		t.Errorf("after SetTarget: %q, rate %d", g.String(), g.Override().Rate())
	}
	if ta, _ := a.snapshot(); len(ta) != 0 {
		t.Error("old target got a frame")
	}
	if tb, _ := b.snapshot(); len(tb) != 1 {
		t.Error("new target got no frame")
	}
	g.SetTarget(nil)
	if err := g.WriteFrame(frameOf(1)); err != nil || g.Rate() != 0 || g.String() != "gate -> nil" {
		t.Errorf("nil target: err %v, rate %d, %q", err, g.Rate(), g.String())
	}
}

func TestGatePayload(t *testing.T) {
	dst := &tagSink{t: t, name: "rtp", rate: 8000}
	g := media.NewGate(dst)
	tests := []struct {
		name      string
		held      bool
		codec     media.Codec
		want      bool
		wantCalls int // WritePayload calls reaching dst so far: a refusal is Takes's, without a write
	}{
		{"open, codec taken", false, media.CodecPCMU, true, 1},
		{"open, codec refused", false, media.CodecOpus, false, 1},
		{"held", true, media.CodecPCMU, false, 1},
	}
	for _, tt := range tests {
		release := func() {}
		if tt.held {
			release = g.Hold()
		}
		takes := g.Takes(tt.codec)
		ok, err := g.WritePayload(tt.codec, []byte{1, 2})
		release()
		if takes != tt.want {
			t.Errorf("%s: Takes = %v, want %v", tt.name, takes, tt.want)
		}
		_, calls := dst.snapshot()
		if err != nil || ok != tt.want || calls != tt.wantCalls {
			t.Errorf("%s: ok %v err %v calls %d; want %v, %d", tt.name, ok, err, calls, tt.want, tt.wantCalls)
		}
	}
	plain := media.NewGate(audiotest.NewRecorder(8000))
	if ok, err := plain.WritePayload(media.CodecPCMU, []byte{1}); ok || err != nil {
		t.Errorf("destination without payloads: %v, %v", ok, err)
	}
}

// TestGateConcurrent drives every method at once; run with -race. The
// destination must never see two writers, and once Hold has returned no
// normal frame may arrive until release.
func TestGateConcurrent(t *testing.T) {
	const normal, prompt = 1, 2
	a := &tagSink{t: t, name: "a", rate: 8000}
	b := &tagSink{t: t, name: "b", rate: 8000}
	g := media.NewGate(a)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				f()
			}
		}()
	}
	nf, pf := frameOf(normal), frameOf(prompt)
	run(func() { _ = g.WriteFrame(nf); _, _ = g.WritePayload(media.CodecPCMU, nil) })
	run(func() { _ = g.Override().WriteFrame(pf) })
	run(func() {
		g.SetTarget(b)
		_ = g.Rate()
		_ = g.String()
		g.SetTarget(a)
	})
	var leaked atomic.Int32
	run(func() {
		release := g.Hold()
		ta, _ := a.snapshot()
		tb, _ := b.snapshot()
		before := countTag(ta, normal) + countTag(tb, normal)
		time.Sleep(100 * time.Microsecond)
		ta, _ = a.snapshot()
		tb, _ = b.snapshot()
		if countTag(ta, normal)+countTag(tb, normal) != before {
			leaked.Add(1)
		}
		release()
	})
	wg.Wait()
	if n := leaked.Load(); n != 0 {
		t.Errorf("%d holds let normal frames through", n)
	}
}

func TestGateNoAllocs(t *testing.T) {
	g := media.NewGate(nullSink{8000})
	frame := make([]int16, 160)
	if a := testing.AllocsPerRun(100, func() { _ = g.WriteFrame(frame) }); a != 0 {
		t.Errorf("WriteFrame: %v allocs", a)
	}
	o := g.Override()
	if a := testing.AllocsPerRun(100, func() { _ = o.WriteFrame(frame) }); a != 0 {
		t.Errorf("Override().WriteFrame: %v allocs", a)
	}
}

// TestGateWithPrompt plays the tone part of the embedded test audio (48
// kHz) through a held gate into an 8 kHz leg while the other leg keeps
// sending 440 Hz: the leg hears only the prompt, then the other leg again.
func TestGateWithPrompt(t *testing.T) {
	full, err := sounds.Load("test-audio")
	if err != nil {
		t.Fatal(err)
	}
	tail := &sounds.Prompt{Name: "tone", Rate: full.Rate, PCM: full.PCM[len(full.PCM)-full.Rate/2 : len(full.PCM)-full.Rate/4]} // 250 ms of 1 kHz
	rec := audiotest.NewRecorder(8000)
	g := media.NewGate(rec)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	otherDone := make(chan struct{})
	go func() { // the other leg: 440 Hz in 20 ms frames, paced
		defer close(otherDone)
		tone := media.NewTone(440, -12, 8000)
		frame := make([]int16, 160)
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		for {
			tone.Next(frame)
			_ = g.WriteFrame(frame)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	release := g.Hold()
	held := len(rec.PCM())
	if err := media.Play(ctx, tail, g.Override()); err != nil {
		t.Fatal(err)
	}
	during := rec.PCM()[held:]
	release()
	time.Sleep(200 * time.Millisecond)
	cancel()
	<-otherDone
	after := rec.PCM()[held+len(during):]

	if f := audiotest.DominantFrequency(during, 8000, 200, 3800, 5); math.Abs(f-1000) > 10 {
		t.Errorf("while held: dominant %v Hz, want 1000", f)
	}
	if p := 10 * math.Log10(audiotest.Goertzel(during, 8000, 440)); p > -60 {
		t.Errorf("while held: 440 Hz leaked at %.1f dB", p)
	}
	if f := audiotest.DominantFrequency(after, 8000, 200, 3800, 5); math.Abs(f-440) > 10 {
		t.Errorf("after release: dominant %v Hz, want 440", f)
	}
}

func TestGateErrors(t *testing.T) {
	want := errors.New("closed")
	g := media.NewGate(failSink{want})
	if err := g.WriteFrame(nil); !errors.Is(err, want) {
		t.Errorf("WriteFrame err = %v", err)
	}
	if err := g.Override().WriteFrame(nil); !errors.Is(err, want) {
		t.Errorf("Override err = %v", err)
	}
}

type failSink struct{ err error }

func (f failSink) WriteFrame([]int16) error { return f.err }
func (f failSink) Rate() int                { return 8000 }
func (f failSink) String() string           { return "fail" }

func BenchmarkGateWriteFrame(b *testing.B) {
	g := media.NewGate(nullSink{8000})
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.WriteFrame(frame)
	}
}
