package media

import "math"

// Tone generates a sine wave frame by frame (ringback, test tones),
// keeping the phase continuous across frames. It allocates nothing and
// is used by one goroutine at a time.
type Tone struct {
	rate  int
	amp   float64 // peak, in int16 units
	step  float64 // phase increment per sample, radians
	phase float64 // in [0, 2π)
}

// NewTone returns a generator of a freq Hz sine whose peak is dBFS
// decibels relative to full scale (0 dBFS = 32767; values above 0 are
// taken as 0), sampled at rate Hz. A non-positive rate, or a level of
// -Inf, gives silence.
func NewTone(freq, dBFS float64, rate int) *Tone {
	t := &Tone{rate: rate}
	if rate <= 0 || math.IsNaN(freq) || math.IsNaN(dBFS) {
		return t
	}
	t.amp = math.MaxInt16 * math.Pow(10, min(dBFS, 0)/20)
	t.step = math.Mod(2*math.Pi*freq/float64(rate), 2*math.Pi)
	return t
}

// Rate returns the sample rate.
func (t *Tone) Rate() int { return t.rate }

// Next fills dst with the next len(dst) samples.
func (t *Tone) Next(dst []int16) {
	for i := range dst {
		dst[i] = int16(math.Round(t.amp * math.Sin(t.phase)))
		t.phase += t.step
		if t.phase >= 2*math.Pi {
			t.phase -= 2 * math.Pi
		} else if t.phase < 0 {
			t.phase += 2 * math.Pi
		}
	}
}
