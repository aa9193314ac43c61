package media

import (
	"sync"
)

// Capture thresholds.
const (
	// SilenceLevel is the mean absolute sample value below which a frame
	// counts as silence (about -45 dBFS RMS for noise-like audio).
	SilenceLevel = 180
	// captureChunk is how much a Capture allocates up front: 60 s at 8 kHz.
	captureChunk = 60 * 8000
)

// Capture is a Sink that keeps what is written to it, up to a maximum
// number of samples, and notices when the audio has been silent for a
// given time. It records a single leg (call:record, voicemail). It starts
// with room for a minute at 8 kHz and doubles when full: writes allocate
// only then (amortised, never per frame). It is safe for concurrent use.
type Capture struct {
	rate         int
	max          int // samples
	silenceLimit int // samples of silence that end the capture; 0: never

	mu        sync.Mutex
	pcm       []int16
	silentRun int // samples of silence at the end of pcm
	stopped   bool
	full      chan struct{} // closed once max samples were kept
	silent    chan struct{} // closed once silenceLimit samples of silence ended pcm
	fullOnce  bool
	quietOnce bool
}

var _ Sink = (*Capture)(nil)

// NewCapture returns a Capture at rate Hz keeping at most maxSamples and
// reporting silence after silenceSamples of it (0: never).
func NewCapture(rate, maxSamples, silenceSamples int) *Capture {
	return &Capture{
		rate: rate, max: max(maxSamples, 0), silenceLimit: max(silenceSamples, 0),
		pcm:  make([]int16, 0, min(max(maxSamples, 0), captureChunk)),
		full: make(chan struct{}), silent: make(chan struct{}),
	}
}

// WriteFrame keeps pcm (up to the maximum) and tracks silence.
func (c *Capture) WriteFrame(pcm []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	room := c.max - len(c.pcm)
	if len(pcm) > room {
		pcm = pcm[:room]
	}
	if len(pcm) > 0 {
		if len(c.pcm)+len(pcm) > cap(c.pcm) {
			grown := make([]int16, len(c.pcm), min(max(2*cap(c.pcm), captureChunk), c.max))
			copy(grown, c.pcm)
			c.pcm = grown
		}
		c.pcm = append(c.pcm, pcm...)
		if Silent(pcm) {
			c.silentRun += len(pcm)
		} else {
			c.silentRun = 0
		}
	}
	if c.silenceLimit > 0 && c.silentRun >= c.silenceLimit && !c.quietOnce {
		c.quietOnce = true
		close(c.silent)
	}
	if len(c.pcm) >= c.max && !c.fullOnce {
		c.fullOnce = true
		close(c.full)
	}
	return nil
}

// Silent reports whether a frame is silence: its mean absolute sample
// value is below SilenceLevel.
func Silent(pcm []int16) bool {
	var sum int
	for _, s := range pcm {
		if s < 0 {
			sum -= int(s)
		} else {
			sum += int(s)
		}
	}
	return len(pcm) == 0 || sum < SilenceLevel*len(pcm)
}

// Full is closed once the maximum was kept.
func (c *Capture) Full() <-chan struct{} { return c.full }

// Silence is closed once the audio ended with the silence limit's worth
// of silence.
func (c *Capture) Silence() <-chan struct{} { return c.silent }

// Samples returns how many samples were kept so far.
func (c *Capture) Samples() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pcm)
}

// Stop ends the capture and returns what was kept; with trimSilence, the
// silence at its end is left out. Frames written afterwards are dropped.
// The caller owns the returned slice.
func (c *Capture) Stop(trimSilence bool) []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	pcm := c.pcm
	if trimSilence {
		pcm = pcm[:len(pcm)-min(c.silentRun, len(pcm))]
	}
	c.pcm = nil
	return pcm
}

func (c *Capture) Rate() int      { return c.rate }
func (c *Capture) String() string { return "capture" }
