package prompts_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/prompts"
	"github.com/softswitch/softswitch/sounds"
)

func newStore(cfg prompts.Config) *prompts.Store {
	return prompts.New(cfg, slog.New(slog.DiscardHandler))
}

func writeWAV(t *testing.T, path string, rate int, pcm []int16) {
	t.Helper()
	if err := os.WriteFile(path, sounds.EncodeWAV(&sounds.Prompt{Rate: rate, PCM: pcm}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Many calls at once ask for the test audio at the rates their legs run
// at: it is decoded once, each rate made once, and all share one copy.
func TestConcurrentUseDecodesOnce(t *testing.T) {
	s := newStore(prompts.Config{})
	rates := []int{8000, 16000, 48000}
	got := make([][]*sounds.Prompt, len(rates))
	for i := range got {
		got[i] = make([]*sounds.Prompt, 60)
	}
	var wg sync.WaitGroup
	for i, rate := range rates {
		for j := range got[i] {
			wg.Go(func() {
				p, err := s.Prompt("test-audio", rate)
				if err != nil {
					t.Error(err)
					return
				}
				got[i][j] = p
			})
		}
	}
	wg.Wait()
	for i, rate := range rates {
		for _, p := range got[i] {
			if p != got[i][0] {
				t.Fatalf("%d Hz: calls got different copies", rate)
			}
		}
		if p := got[i][0]; p.Rate != rate || p.Name != "test-audio" {
			t.Fatalf("asked %d Hz, got %q at %d Hz", rate, p.Name, p.Rate)
		}
		if d := got[i][0].Duration(); d < 8*time.Second || d > 12*time.Second {
			t.Fatalf("%d Hz version lasts %v", rate, d)
		}
	}
	if n := s.Decodes("test-audio"); n != 1 {
		t.Errorf("decoded %d times, want 1", n)
	}
	for rate, want := range map[int]int{8000: 1, 16000: 1, 48000: 0} { // 48 kHz is the file's own rate
		if n := s.Conversions("test-audio", rate); n != want {
			t.Errorf("%d Hz made %d times, want %d", rate, n, want)
		}
	}
	st := s.Stats()
	want := 2 * int64(len(got[0][0].PCM)+len(got[1][0].PCM)+len(got[2][0].PCM))
	if st.Decodes != 1 || st.Conversions != 2 || st.Prompts != 1 || st.Bytes != want {
		t.Errorf("stats %+v, want 1 decode, 2 conversions, 1 prompt, %d bytes", st, want)
	}
}

// A prompt in the configured directory wins over the embedded one of the
// same name; a changed file is decoded again, and a call still holding
// the old audio keeps it unchanged.
func TestDirAndReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "test-audio.wav")
	writeWAV(t, path, 8000, []int16{1, 2, 3})
	s := newStore(prompts.Config{Dir: dir})
	old, err := s.Prompt("test-audio", 8000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(old.PCM, []int16{1, 2, 3}) {
		t.Fatalf("got %v, want the directory's file", old.PCM)
	}
	if again, _ := s.Prompt("test-audio", 8000); again != old || s.Decodes("test-audio") != 1 {
		t.Fatal("unchanged file decoded again")
	}
	writeWAV(t, path, 8000, []int16{4, 5, 6, 7})
	now, err := s.Prompt("test-audio", 8000)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(now.PCM, []int16{4, 5, 6, 7}) || s.Decodes("test-audio") != 2 {
		t.Fatalf("changed file: got %v after %d decodes", now.PCM, s.Decodes("test-audio"))
	}
	if !slices.Equal(old.PCM, []int16{1, 2, 3}) {
		t.Fatal("the audio a call held changed under it")
	}
	// By path, the same file is one more prompt of the store.
	byPath, err := s.Prompt(path, 8000)
	if err != nil || !slices.Equal(byPath.PCM, now.PCM) {
		t.Fatalf("by path: %v %v", byPath, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Prompt("test-audio", 48000); err != nil || len(p.PCM) < 48000 {
		t.Fatalf("file removed: want the embedded prompt, got %v", err)
	}
	if _, err := s.Prompt(path, 8000); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("removed file by path: err %v", err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wav")
	if err := os.WriteFile(bad, []byte("not a wav"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(prompts.Config{Dir: dir})
	tests := []struct {
		name string
		rate int
		want error
	}{
		{"no-such-prompt", 8000, sounds.ErrNotFound},
		{"", 8000, prompts.ErrBadName},
		{"..", 8000, prompts.ErrBadName},
		{"bad", 8000, sounds.ErrMalformed},
		{bad, 8000, sounds.ErrMalformed},
		{filepath.Join(dir, "none.wav"), 8000, os.ErrNotExist},
		{"test-audio", 8001, media.ErrUnsupportedRate},
	}
	for _, tt := range tests {
		if _, err := s.Prompt(tt.name, tt.rate); !errors.Is(err, tt.want) {
			t.Errorf("Prompt(%q, %d) err = %v, want %v", tt.name, tt.rate, err, tt.want)
		}
	}
	// A failed decode is not kept: fixed, the file plays.
	writeWAV(t, bad, 8000, []int16{9})
	if p, err := s.Prompt("bad", 8000); err != nil || !slices.Equal(p.PCM, []int16{9}) {
		t.Fatalf("fixed file: %v %v", p, err)
	}
}

// The PCM kept stays under the bound: the least recently used prompt goes
// first, and one larger than the bound alone is served but not kept.
func TestBound(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		writeWAV(t, filepath.Join(dir, n+".wav"), 8000, make([]int16, 1000)) // 2000 bytes each
	}
	writeWAV(t, filepath.Join(dir, "big.wav"), 8000, make([]int16, 4000))
	s := newStore(prompts.Config{Dir: dir, MaxBytes: 5000})
	use := func(name string) {
		t.Helper()
		if _, err := s.Prompt(name, 8000); err != nil {
			t.Fatal(err)
		}
	}
	use("a")
	use("b")
	use("a") // b is now the least recently used
	use("c")
	if st := s.Stats(); st.Bytes != 4000 || st.Prompts != 2 {
		t.Fatalf("stats %+v, want 2 prompts in 4000 bytes", st)
	}
	use("a")
	if s.Decodes("a") != 1 {
		t.Fatal("the recently used prompt was evicted")
	}
	use("b")
	if s.Decodes("b") != 2 {
		t.Fatal("the least recently used prompt was kept")
	}
	big, err := s.Prompt("big", 8000)
	if err != nil || len(big.PCM) != 4000 {
		t.Fatalf("big: %v", err)
	}
	use("big")
	if s.Decodes("big") != 2 {
		t.Fatal("a prompt over the bound was kept")
	}
	if st := s.Stats(); st.Bytes != 4000 || st.Prompts != 2 {
		t.Fatalf("stats %+v: the prompt over the bound evicted the others or was kept", st)
	}
}

// BenchmarkPromptShared is what a call pays to start a prompt once the
// store holds it: no decode, no conversion, no allocation.
func BenchmarkPromptShared(b *testing.B) {
	s := newStore(prompts.Config{})
	if _, err := s.Prompt("test-audio", 8000); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Prompt("test-audio", 8000); err != nil {
			b.Fatal(err)
		}
	}
}
