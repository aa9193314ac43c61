package audiotest

import (
	"sync"

	"github.com/softswitch/softswitch/media"
)

// Recorder is a media.Sink that keeps every sample written to it. It is
// safe for concurrent use: a test reads PCM while frames arrive.
type Recorder struct {
	rate   int
	mu     sync.Mutex
	pcm    []int16
	frames int
}

var _ media.Sink = (*Recorder)(nil)

// NewRecorder returns an empty Recorder that reports rate as its Rate.
func NewRecorder(rate int) *Recorder { return &Recorder{rate: rate} }

// WriteFrame appends a copy of pcm.
func (r *Recorder) WriteFrame(pcm []int16) error {
	r.mu.Lock()
	r.pcm = append(r.pcm, pcm...)
	r.frames++
	r.mu.Unlock()
	return nil
}

// Rate returns the rate given to NewRecorder.
func (r *Recorder) Rate() int { return r.rate }

// String names the stage.
func (r *Recorder) String() string { return "recorder" }

// PCM returns a copy of everything recorded so far.
func (r *Recorder) PCM() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.pcm...)
}

// Frames returns the number of WriteFrame calls so far.
func (r *Recorder) Frames() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.pcm, r.frames = nil, 0
	r.mu.Unlock()
}
