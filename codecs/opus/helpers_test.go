package opus_test

import (
	"math"
	"testing"

	"github.com/softswitch/softswitch/sounds"
)

// speechSeconds is the spoken part at the start of the test audio
// (sounds/README.md): 0.2 s of silence, then about 5 s of speech.
const speechSeconds = 5.5

// tone returns frames 20 ms frames of a sine at freq Hz with peak amp.
func tone(rate int, freq, amp float64, frames int) []int16 {
	pcm := make([]int16, frames*rate/50)
	for i := range pcm {
		pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return pcm
}

// speech returns the spoken part of the embedded test audio at rate,
// whole 20 ms frames only. Below 48 kHz it averages each run of
// 48000/rate samples: a crude low-pass, good enough to give the encoder
// realistic speech to work on in benchmarks.
func speech(tb testing.TB, rate int) []int16 {
	tb.Helper()
	p, err := sounds.Load("test-audio")
	if err != nil {
		tb.Fatal(err)
	}
	if p.Rate != 48000 || rate <= 0 || 48000%rate != 0 {
		tb.Fatalf("test audio at %d Hz, want 48000 and a divisor of it, not %d", p.Rate, rate)
	}
	step := 48000 / rate
	in := p.PCM[:min(len(p.PCM), int(speechSeconds*48000))]
	out := make([]int16, len(in)/step)
	for i := range out {
		var sum int
		for _, v := range in[i*step : (i+1)*step] {
			sum += int(v)
		}
		out[i] = int16(sum / step)
	}
	frame := rate / 50
	return out[:len(out)/frame*frame]
}

// frames cuts pcm into 20 ms frames at rate, sharing its memory.
func frames(pcm []int16, rate int) [][]int16 {
	n := rate / 50
	out := make([][]int16, 0, len(pcm)/n)
	for i := 0; i+n <= len(pcm); i += n {
		out = append(out, pcm[i:i+n:i+n])
	}
	return out
}
