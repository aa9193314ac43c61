package media_test

import (
	"math"
	"slices"
	"testing"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

func TestTone(t *testing.T) {
	tests := []struct {
		name   string
		freq   float64
		dBFS   float64
		rate   int
		wantDB float64 // RMS level; -Inf for silence
	}{
		{"1 kHz test tone at 8 kHz", 1000, -12, 8000, -12 - 3.01},
		{"1 kHz test tone at 48 kHz", 1000, -12, 48000, -12 - 3.01},
		{"440 Hz at 16 kHz", 440, -20, 16000, -20 - 3.01},
		{"425 Hz ringback at 8 kHz", 425, -10, 8000, -10 - 3.01},
		{"above full scale is clamped", 1000, 6, 8000, 0 - 3.01},
		{"zero rate is silent", 1000, -12, 0, math.Inf(-1)},
		{"-Inf dBFS is silent", 1000, math.Inf(-1), 8000, math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tone := media.NewTone(tt.freq, tt.dBFS, tt.rate)
			size := max(media.FrameSamples(tt.rate), 160)
			pcm := make([]int16, 50*size)
			for off := 0; off < len(pcm); off += size {
				tone.Next(pcm[off : off+size])
			}
			if got := audiotest.RMSdBFS(pcm); math.IsInf(tt.wantDB, -1) != math.IsInf(got, -1) || math.Abs(got-tt.wantDB) > 0.05 {
				t.Errorf("RMS %.2f dBFS, want %.2f", got, tt.wantDB)
			}
			if math.IsInf(tt.wantDB, -1) {
				return
			}
			if f := audiotest.DominantFrequency(pcm, tt.rate, 100, 3900, 5); math.Abs(f-tt.freq) > 10 {
				t.Errorf("dominant %v Hz, want %v", f, tt.freq)
			}
			if peak := slices.Max(pcm); peak > math.MaxInt16 || float64(peak) > 32767*math.Pow(10, min(tt.dBFS, 0)/20)+1 {
				t.Errorf("peak %d", peak)
			}
		})
	}
}

// TestTonePhaseContinuity checks that frame boundaries are invisible:
// any chunking gives the samples of one long call.
func TestTonePhaseContinuity(t *testing.T) {
	ref := make([]int16, 8000)
	media.NewTone(1000, -12, 8000).Next(ref)
	for _, chunk := range []int{160, 7, 1, 333} {
		tone := media.NewTone(1000, -12, 8000)
		got := make([]int16, len(ref))
		for off := 0; off < len(got); off += chunk {
			tone.Next(got[off:min(off+chunk, len(got))])
		}
		if !slices.Equal(got, ref) {
			t.Errorf("chunks of %d differ", chunk)
		}
	}
	// After many frames the tone is still the ideal sine (no drift).
	long := make([]int16, 8000*60)
	media.NewTone(1000, -12, 8000).Next(long)
	ideal := toneSamples(len(long), 8000, 1000, -12)
	for i := len(long) - 160; i < len(long); i++ {
		if d := int(long[i]) - int(ideal[i]); d > 2 || d < -2 {
			t.Fatalf("sample %d: %d, ideal %d", i, long[i], ideal[i])
		}
	}
}

func TestToneNoAllocs(t *testing.T) {
	tone := media.NewTone(1000, -12, 8000)
	frame := make([]int16, 160)
	if a := testing.AllocsPerRun(100, func() { tone.Next(frame) }); a != 0 {
		t.Errorf("%v allocs per frame", a)
	}
}

func BenchmarkToneNext(b *testing.B) {
	tone := media.NewTone(1000, -12, 8000)
	frame := make([]int16, 160)
	b.ReportAllocs()
	for b.Loop() {
		tone.Next(frame)
	}
}
