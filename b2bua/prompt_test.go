package b2bua

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/prompts"
)

// Many calls play the same prompt at once, half on G.711 legs (8 kHz) and
// half on Opus legs (48 kHz): each caller hears it, and the store decoded
// it once and made each rate once.
func TestPromptSharedByConcurrentCalls(t *testing.T) {
	wav := toneWAV(t, 300*time.Millisecond) // 16 kHz: both rates need a version
	st := prompts.New(prompts.Config{}, slog.New(slog.DiscardHandler))
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		if err := s.Answer(ctx); err != nil {
			return err
		}
		return s.Play(ctx, wav)
	}), &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	e.SetPrompts(st)
	const calls = 40
	legs := make([]*fakeLeg, calls)
	var wg sync.WaitGroup
	for i := range legs {
		legs[i] = newFakeLeg(fmt.Sprintf("a%d", i))
		if i%2 == 1 {
			legs[i].rec = audiotest.NewRecorder(48000)
		}
		wg.Go(func() { e.Serve(context.Background(), legs[i], CallInfo{ID: legs[i].id}) })
	}
	wg.Wait()
	for _, l := range legs {
		rate := l.rec.Rate()
		pcm := l.rec.PCM()
		if len(pcm) < rate/4 {
			t.Fatalf("%s (%d Hz) heard %d samples", l.id, rate, len(pcm))
		}
		if f := audiotest.DominantFrequency(pcm, rate, 200, 3000, 10); f < 980 || f > 1020 {
			t.Fatalf("%s (%d Hz) heard %v Hz, want 1000", l.id, rate, f)
		}
	}
	if n := st.Decodes(wav); n != 1 {
		t.Errorf("decoded %d times for %d calls, want 1", n, calls)
	}
	for _, rate := range []int{8000, 48000} {
		if n := st.Conversions(wav, rate); n != 1 {
			t.Errorf("%d Hz version made %d times, want 1", rate, n)
		}
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
