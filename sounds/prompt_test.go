package sounds_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

func TestNames(t *testing.T) {
	names := sounds.Names()
	if !slices.Contains(names, "test-audio") || !slices.IsSorted(names) {
		t.Errorf("Names() = %v", names)
	}
	for _, n := range names {
		if _, err := sounds.Load(n); err != nil {
			t.Errorf("Load(%q): %v", n, err)
		}
	}
}

func TestLoadNotFound(t *testing.T) {
	for _, name := range []string{"", "nope", "test-audio.wav", "../sounds/test-audio", "/test-audio", `x\y`, "."} {
		if _, err := sounds.Load(name); !errors.Is(err, sounds.ErrNotFound) {
			t.Errorf("Load(%q) err = %v, want ErrNotFound", name, err)
		}
	}
}

// TestTestAudio checks the shipped test audio against its description in
// README.md: 48 kHz mono, under 12 s, speech, then 4 s of 1000 Hz at
// about -12 dBFS.
func TestTestAudio(t *testing.T) {
	p, err := sounds.Load("test-audio")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "test-audio" || p.Rate != 48000 {
		t.Fatalf("name %q rate %d", p.Name, p.Rate)
	}
	if d := p.Duration(); d < 8*time.Second || d >= 12*time.Second {
		t.Errorf("duration %v", d)
	}
	tone := p.PCM[len(p.PCM)-7*p.Rate/2 : len(p.PCM)-p.Rate/4] // inside the last 4 s
	if f := audiotest.DominantFrequency(tone, p.Rate, 200, 4000, 5); math.Abs(f-1000) > 10 {
		t.Errorf("tone at %v Hz", f)
	}
	if peak := 10 * math.Log10(audiotest.Goertzel(tone, p.Rate, 1000)); math.Abs(peak+12) > 0.5 {
		t.Errorf("tone peak level %.2f dBFS, want -12", peak)
	}
	speech := p.PCM[:len(p.PCM)-4*p.Rate-p.Rate/2]
	if lvl := audiotest.RMSdBFS(speech); lvl < -30 || lvl > -10 {
		t.Errorf("speech level %.1f dBFS", lvl)
	}
	if f := audiotest.DominantFrequency(speech, p.Rate, 200, 4000, 10); math.Abs(f-1000) < 20 {
		t.Errorf("speech part looks like the tone (%v Hz)", f)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "hello.wav")
	if err := os.WriteFile(good, sounds.EncodeWAV(&sounds.Prompt{Rate: 16000, PCM: []int16{1, 2, 3}}), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.wav")
	if err := os.WriteFile(bad, []byte("not a wav"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		path     string
		wantName string
		wantErr  error
	}{
		{"good", good, "hello", nil},
		{"malformed", bad, "", sounds.ErrMalformed},
		{"missing", filepath.Join(dir, "none.wav"), "", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := sounds.LoadFile(tt.path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tt.wantName || p.Rate != 16000 || !slices.Equal(p.PCM, []int16{1, 2, 3}) {
				t.Errorf("got %+v", p)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		p    sounds.Prompt
		want time.Duration
	}{
		{sounds.Prompt{Rate: 8000, PCM: make([]int16, 8000)}, time.Second},
		{sounds.Prompt{Rate: 48000, PCM: make([]int16, 960)}, 20 * time.Millisecond},
		{sounds.Prompt{Rate: 0, PCM: make([]int16, 10)}, 0},
	}
	for _, tt := range tests {
		if got := tt.p.Duration(); got != tt.want {
			t.Errorf("Duration() = %v, want %v", got, tt.want)
		}
	}
}

// TestMOH checks the bundled music on hold against README.md: 4 s at
// 16 kHz, eight 0.5 s notes of a C major arpeggio.
func TestMOH(t *testing.T) {
	p, err := sounds.Load("moh")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != 16000 || p.Duration() != 4*time.Second {
		t.Fatalf("rate %d duration %v", p.Rate, p.Duration())
	}
	notes := []float64{523.25, 659.25, 783.99, 659.25}
	for i := range 8 {
		note := p.PCM[i*8000+1000 : (i+1)*8000-1000]
		if f := audiotest.DominantFrequency(note, p.Rate, 200, 2000, 1); math.Abs(f-notes[i%4]) > 3 {
			t.Errorf("note %d at %v Hz, want %v", i, f, notes[i%4])
		}
		if lvl := audiotest.RMSdBFS(note); math.Abs(lvl+18) > 1 {
			t.Errorf("note %d at %.1f dBFS RMS, want -18", i, lvl)
		}
	}
}
