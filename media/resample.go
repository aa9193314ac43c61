package media

import (
	"errors"
	"fmt"
	"math"
)

// ErrUnsupportedRate is returned for a sample rate, or a pair of rates,
// the resampler cannot convert.
var ErrUnsupportedRate = errors.New("media: unsupported sample rate")

const (
	// resampleMaxRate is the highest rate accepted.
	resampleMaxRate = 384000
	// resampleMaxPhases bounds the interpolation factor (to/resampleGCD(from, to)),
	// which sizes the coefficient table: 44100 <-> 48000 needs 160.
	resampleMaxPhases = 1024
	// Low-pass design, relative to the Nyquist frequency of the lower rate:
	// flat to 0.85 (3400 Hz at 8 kHz), at least resampleStopbandDB down
	// from 1.05 (4200 Hz at 8 kHz). What folds back from between 1.0 and
	// 1.05 lands above 0.95, outside the telephone band.
	resamplePassEdge   = 0.85
	resampleStopEdge   = 1.05
	resampleStopbandDB = 65.0
)

// Resampler converts a stream of mono int16 PCM from one rate to another
// with a polyphase windowed-sinc (Kaiser) low-pass filter. It keeps its
// history between calls, so a stream can be fed frame by frame; it adds a
// fixed delay of Delay() output samples (about 2.5 ms). It allocates only
// in NewResampler. A Resampler is used by one goroutine at a time.
type Resampler struct {
	from, to int
	up, down int       // interpolation and decimation factors (L, M)
	taps     int       // coefficients per phase (K)
	coef     []float32 // up phases of taps coefficients, oldest sample first
	hist     []float32 // last taps inputs, stored twice so any window is contiguous
	pos      int       // index in hist[:taps] of the newest input
	phase    int       // next output position, in 1/up input samples after the next input
	delay    int       // group delay in output samples
}

// NewResampler returns a resampler from rate from to rate to (Hz). Any
// rates from 1000 to 384000 Hz whose ratio reduces to an interpolation
// factor of at most 1024 are accepted, which covers 8000, 16000, 24000,
// 32000, 44100 and 48000 Hz in every direction.
func NewResampler(from, to int) (*Resampler, error) {
	for _, rate := range []int{from, to} {
		if rate < 1000 || rate > resampleMaxRate {
			return nil, fmt.Errorf("new resampler %d->%d: rate %d: %w", from, to, rate, ErrUnsupportedRate)
		}
	}
	g := resampleGCD(from, to)
	r := &Resampler{from: from, to: to, up: to / g, down: from / g}
	if r.up > resampleMaxPhases {
		return nil, fmt.Errorf("new resampler %d->%d: %d phases (at most %d): %w", from, to, r.up, resampleMaxPhases, ErrUnsupportedRate)
	}
	if from == to {
		return r, nil
	}
	r.design()
	return r, nil
}

// design computes the polyphase coefficients and sizes the history.
func (r *Resampler) design() {
	protoRate := float64(r.from * r.up)     // rate of the zero-stuffed signal
	nyq := 0.5 * float64(min(r.from, r.to)) // Nyquist of the lower rate
	width := (resampleStopEdge - resamplePassEdge) * nyq / protoRate
	cutoff := 0.5 * (resampleStopEdge + resamplePassEdge) * nyq / protoRate // cycles per sample

	// Kaiser's estimates for the window length and shape.
	n := (resampleStopbandDB - 7.95) / (2.285 * 2 * math.Pi * width)
	beta := 0.1102 * (resampleStopbandDB - 8.7)

	// Centre the filter on a whole number of output samples, so the delay
	// is exact and ResampleAll can drop it.
	r.delay = int(math.Ceil(n / 2 / float64(r.down)))
	half := r.delay * r.down
	length := 2*half + 1
	r.taps = (length + r.up - 1) / r.up

	proto := make([]float64, r.taps*r.up)
	var sum float64
	for i := range length {
		x := float64(i - half)
		v := 2 * cutoff * resampleSinc(2*cutoff*x) * resampleKaiser(x/float64(half), beta)
		proto[i] = v
		sum += v
	}
	gain := float64(r.up) / sum // unity gain at DC after interpolation

	// Phase p uses proto[p + k*up] against input i-k; store it oldest
	// input first to match the history window.
	r.coef = make([]float32, r.up*r.taps)
	for p := range r.up {
		row := r.coef[p*r.taps : (p+1)*r.taps]
		for k := range r.taps {
			row[r.taps-1-k] = float32(proto[p+k*r.up] * gain)
		}
	}
	r.hist = make([]float32, 2*r.taps)
	r.pos = r.taps - 1
}

// Rates returns the input and output rates.
func (r *Resampler) Rates() (from, to int) { return r.from, r.to }

// Delay returns the filter's delay in output samples.
func (r *Resampler) Delay() int { return r.delay }

// OutLen returns how many samples the next Process call produces from n
// input samples; for 20 ms frames between the usual rates it is always
// one output frame.
func (r *Resampler) OutLen(n int) int {
	if r.from == r.to {
		return n
	}
	span := n*r.up - r.phase
	if span <= 0 {
		return 0
	}
	return (span + r.down - 1) / r.down
}

// Process resamples src into dst and returns the number of samples
// written. dst should hold OutLen(len(src)) samples; output beyond
// len(dst) is dropped, keeping the stream's timing intact.
func (r *Resampler) Process(dst, src []int16) int {
	if r.from == r.to {
		return copy(dst, src)
	}
	w := 0
	taps, up, down := r.taps, r.up, r.down
	for _, s := range src {
		r.pos++
		if r.pos == taps {
			r.pos = 0
		}
		r.hist[r.pos] = float32(s)
		r.hist[r.pos+taps] = float32(s)
		if r.phase >= up {
			r.phase -= up
			continue
		}
		window := r.hist[r.pos+1 : r.pos+1+taps]
		for ; r.phase < up; r.phase += down {
			if w < len(dst) {
				dst[w] = resampleRound(resampleDot(r.coef[r.phase*taps:(r.phase+1)*taps], window))
				w++
			}
		}
		r.phase -= up
	}
	return w
}

// Reset clears the history, as if the resampler were new.
func (r *Resampler) Reset() {
	clear(r.hist)
	r.phase = 0
	r.pos = max(r.taps-1, 0)
}

// ResampleAll converts a whole recording (a prompt) from one rate to
// another, compensating the filter delay so the output lines up with the
// input and holds len(pcm)*to/from samples, rounded up.
func ResampleAll(pcm []int16, from, to int) ([]int16, error) {
	r, err := NewResampler(from, to)
	if err != nil {
		return nil, fmt.Errorf("resample all: %w", err)
	}
	if from == to {
		return append([]int16(nil), pcm...), nil
	}
	want := r.OutLen(len(pcm))
	out := make([]int16, r.delay+want)
	w := r.Process(out, pcm)
	var zeros [64]int16
	for w < len(out) {
		w += r.Process(out[w:], zeros[:])
	}
	return out[r.delay:], nil
}

// resampleDot is the filter's inner product, four independent sums for speed.
func resampleDot(c, x []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		s0 += c[i] * x[i]
		s1 += c[i+1] * x[i+1]
		s2 += c[i+2] * x[i+2]
		s3 += c[i+3] * x[i+3]
	}
	for ; i < len(c); i++ {
		s0 += c[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func resampleRound(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

func resampleSinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// resampleKaiser is the Kaiser window at t in [-1, 1].
func resampleKaiser(t, beta float64) float64 {
	if t < -1 || t > 1 {
		return 0
	}
	return resampleI0(beta*math.Sqrt(1-t*t)) / resampleI0(beta)
}

// resampleI0 is the modified Bessel function of the first kind, order 0.
func resampleI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

func resampleGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// rateAdapter is a Sink at one rate that resamples each frame into a
// Sink at another.
type rateAdapter struct {
	dst Sink
	r   *Resampler
	buf []int16
}

// NewRateAdapter returns a Sink taking frames at fromRate that resamples
// them into dst, or dst itself when the rates already match. If the
// rates cannot be converted, the returned Sink fails every WriteFrame
// with an error wrapping ErrUnsupportedRate.
func NewRateAdapter(dst Sink, fromRate int) Sink {
	if dst == nil {
		return &brokenSink{rate: fromRate, err: fmt.Errorf("rate adapter from %d: nil sink: %w", fromRate, ErrUnsupportedRate)}
	}
	if dst.Rate() == fromRate {
		return dst
	}
	r, err := NewResampler(fromRate, dst.Rate())
	if err != nil {
		return &brokenSink{rate: fromRate, dst: dst, err: fmt.Errorf("rate adapter: %w", err)}
	}
	return &rateAdapter{dst: dst, r: r, buf: make([]int16, r.OutLen(FrameSamples(fromRate))+1)}
}

func (a *rateAdapter) WriteFrame(pcm []int16) error {
	n := a.r.OutLen(len(pcm))
	if n > len(a.buf) {
		a.buf = make([]int16, n) // only when frames grow beyond 20 ms
	}
	n = a.r.Process(a.buf[:n], pcm)
	if n == 0 {
		return nil
	}
	return a.dst.WriteFrame(a.buf[:n])
}

func (a *rateAdapter) Rate() int { return a.r.from }

func (a *rateAdapter) String() string {
	return fmt.Sprintf("resample(%d->%d) -> %s", a.r.from, a.r.to, a.dst.String())
}

// brokenSink stands for a Sink that could not be built: it reports why
// on every frame.
type brokenSink struct {
	rate int
	dst  Sink
	err  error
}

func (b *brokenSink) WriteFrame([]int16) error { return b.err }

func (b *brokenSink) Rate() int { return b.rate }

func (b *brokenSink) String() string {
	if b.dst == nil {
		return fmt.Sprintf("resample(%d->?) -> nil", b.rate)
	}
	return fmt.Sprintf("resample(%d->%d: unsupported) -> %s", b.rate, b.dst.Rate(), b.dst.String())
}
