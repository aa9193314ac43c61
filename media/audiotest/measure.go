package audiotest

import "math"

// fullScale is the int16 value taken as 1.0.
const fullScale = 32768

// Goertzel returns the power of the component of pcm at freq Hz (pcm
// sampled at rate Hz) as the squared peak amplitude relative to full
// scale: a sine at freq of peak A/32768 gives about (A/32768)², so
// 10*log10 of the result is the component's peak level in dBFS. The
// frequency need not fall on a DFT bin. It returns 0 for empty input or a
// non-positive rate.
func Goertzel(pcm []int16, rate int, freq float64) float64 {
	if len(pcm) == 0 || rate <= 0 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range pcm {
		s0 := float64(v)/fullScale + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2 // |X(freq)|²
	n := float64(len(pcm))
	return 4 * power / (n * n)
}

// DominantFrequency scans lo to hi Hz in steps of step Hz and returns the
// frequency with the most power (the first one on ties), or 0 when there
// is nothing to scan (empty input, step <= 0, hi < lo).
//
// The input is cut into Hann-windowed blocks of rate/step samples whose
// Goertzel powers are summed, so each scanned frequency stands for a band
// one step wide: a tone between two scan points is credited to the
// nearer one instead of falling into a spectral null, and the result is
// within step/2 of the tone (resolution cannot beat rate/len(pcm)).
func DominantFrequency(pcm []int16, rate int, lo, hi, step float64) float64 {
	if len(pcm) == 0 || rate <= 0 || !(step > 0) || !(hi >= lo) {
		return 0
	}
	block := len(pcm)
	if b := float64(rate) / step; b < float64(block) {
		block = max(int(math.Round(b)), 2)
	}
	blocks := len(pcm) / block
	x := make([]float64, blocks*block)
	for b := range blocks {
		for i := range block {
			hann := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(block))
			x[b*block+i] = hann * float64(pcm[b*block+i]) / fullScale
		}
	}
	steps := int(math.Floor((hi-lo)/step + 1e-9))
	best, bestPower := lo, -1.0
	for i := 0; i <= steps; i++ {
		f := lo + float64(i)*step
		coeff := 2 * math.Cos(2*math.Pi*f/float64(rate))
		var p float64
		for b := range blocks {
			p += goertzel(x[b*block:(b+1)*block], coeff)
		}
		if p > bestPower {
			best, bestPower = f, p
		}
	}
	return best
}

// goertzel returns |X|² of x at the frequency whose coefficient is coeff
// (2cos(2πf/rate)).
func goertzel(x []float64, coeff float64) float64 {
	var s1, s2 float64
	for _, v := range x {
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// RMSdBFS returns the RMS level of pcm in dBFS (a full-scale sine is
// -3.01 dBFS). Digital silence and empty input give -Inf.
func RMSdBFS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return math.Inf(-1)
	}
	var sum float64
	for _, v := range pcm {
		x := float64(v) / fullScale
		sum += x * x
	}
	if sum == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sum/float64(len(pcm)))
}
