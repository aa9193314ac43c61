package audiotest

import (
	"math"
	"sync"
	"testing"
)

// sine returns n samples of a freq Hz sine with peak level dBFS.
func sine(n, rate int, freq, dBFS float64) []int16 {
	pcm := make([]int16, n)
	amp := 32767 * math.Pow(10, dBFS/20)
	for i := range pcm {
		pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return pcm
}

// noise returns n samples of deterministic pseudo-random noise of peak amp.
func noise(n int, amp int32) []int16 {
	out := make([]int16, n)
	x := uint32(1)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = int16(int32(x%uint32(2*amp+1)) - amp)
	}
	return out
}

func add(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

func TestDominantFrequency(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
		rate int
		want float64
	}{
		{"1000 Hz at 8 kHz", sine(8000, 8000, 1000, -12), 8000, 1000},
		{"1000 Hz at 48 kHz, 100 ms", sine(4800, 48000, 1000, -12), 48000, 1000},
		{"440 Hz at 16 kHz", sine(16000, 16000, 440, -20), 16000, 440},
		{"1000 Hz over a weaker 440 Hz", add(sine(8000, 8000, 1000, -12), sine(8000, 8000, 440, -24)), 8000, 1000},
		{"1013 Hz off the scan grid", sine(8000, 8000, 1013, -6), 8000, 1013},
		{"1002.5 Hz half way between scan points", sine(8000, 8000, 1002.5, -6), 8000, 1002.5},
		{"997 Hz in 20 ms", sine(160, 8000, 997, -6), 8000, 997},
		{"1000 Hz in white-ish noise", add(sine(8000, 8000, 1000, -30), noise(8000, 4000)), 8000, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DominantFrequency(tt.pcm, tt.rate, 100, 3900, 5)
			if math.Abs(got-tt.want) > 10 {
				t.Errorf("dominant = %v Hz, want %v ± 10", got, tt.want)
			}
		})
	}
}

func TestDominantFrequencyDegenerate(t *testing.T) {
	pcm := sine(800, 8000, 1000, -6)
	tests := []struct {
		name         string
		pcm          []int16
		lo, hi, step float64
		want         float64
	}{
		{"empty", nil, 100, 200, 1, 0},
		{"zero step", pcm, 100, 200, 0, 0},
		{"negative step", pcm, 100, 200, -1, 0},
		{"hi below lo", pcm, 200, 100, 1, 0},
		{"single point", pcm, 1000, 1000, 1, 1000},
	}
	for _, tt := range tests {
		if got := DominantFrequency(tt.pcm, 8000, tt.lo, tt.hi, tt.step); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestGoertzelLevel(t *testing.T) {
	tests := []struct {
		name   string
		pcm    []int16
		freq   float64
		wantDB float64 // 10*log10(power)
		tol    float64
	}{
		{"-12 dBFS tone at its frequency", sine(8000, 8000, 1000, -12), 1000, -12, 0.1},
		{"full-scale tone", sine(8000, 8000, 1000, 0), 1000, 0, 0.1},
	}
	for _, tt := range tests {
		got := 10 * math.Log10(Goertzel(tt.pcm, 8000, tt.freq))
		if math.Abs(got-tt.wantDB) > tt.tol {
			t.Errorf("%s: %.2f dB, want %.2f ± %.2f", tt.name, got, tt.wantDB, tt.tol)
		}
	}
	if off := 10 * math.Log10(Goertzel(sine(8000, 8000, 1000, -12), 8000, 1500)); off > -60 {
		t.Errorf("leakage 500 Hz away = %.1f dB, want < -60", off)
	}
	if p := Goertzel(nil, 8000, 1000); p != 0 {
		t.Errorf("empty = %v", p)
	}
}

func TestRMSdBFS(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
		lo   float64
		hi   float64
	}{
		{"silence", make([]int16, 160), math.Inf(-1), -80},
		{"empty", nil, math.Inf(-1), -80},
		{"one LSB of noise", []int16{1, -1, 1, -1}, -91, -90},
		{"full-scale sine", sine(8000, 8000, 1000, 0), -3.1, -2.9},
		{"-12 dBFS sine", sine(8000, 8000, 1000, -12), -15.1, -14.9},
		{"full-scale square", []int16{-32768, -32768, -32768}, -0.01, 0.01},
	}
	for _, tt := range tests {
		if got := RMSdBFS(tt.pcm); got < tt.lo || got > tt.hi {
			t.Errorf("%s: %.2f dBFS, want in [%.2f, %.2f]", tt.name, got, tt.lo, tt.hi)
		}
	}
}

func TestRecorder(t *testing.T) {
	r := NewRecorder(8000)
	if r.Rate() != 8000 || r.String() != "recorder" {
		t.Fatalf("Rate, String = %d, %q", r.Rate(), r.String())
	}
	var wg sync.WaitGroup
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(i)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range 50 {
			_ = r.WriteFrame(frame)
		}
	}()
	go func() {
		defer wg.Done()
		for range 50 {
			if n := len(r.PCM()); n%160 != 0 {
				t.Errorf("partial frame visible: %d samples", n)
			}
		}
	}()
	wg.Wait()
	got := r.PCM()
	if len(got) != 50*160 || r.Frames() != 50 {
		t.Fatalf("recorded %d samples in %d frames", len(got), r.Frames())
	}
	got[0] = 999
	if r.PCM()[0] != 0 {
		t.Error("PCM returned the recorder's own slice")
	}
	frame[1] = -5
	if r.PCM()[1] != 1 {
		t.Error("recorder retained the caller's frame")
	}
	r.Reset()
	if len(r.PCM()) != 0 || r.Frames() != 0 {
		t.Error("Reset kept data")
	}
}
