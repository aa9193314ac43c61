package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/sounds"
)

// Rate is the sample rate of recordings.
const Rate = 8000

// Channel is one side of a stereo recording.
type Channel int

// The channels: the caller left, the callee right.
const (
	Left  Channel = 0
	Right Channel = 1
)

func (c Channel) String() string {
	if c == Left {
		return "left"
	}
	return "right"
}

// Timing of the writer, in samples per channel where it matters.
const (
	// flushEvery is how often the writer drains the ring to the file and
	// patches the header.
	flushEvery = 250 * time.Millisecond
	// settle is how far behind the clock the writer stays, so frames that
	// arrive a little late still find their place.
	settle = Rate / 5 // 200 ms
	// maxLag: a channel this far behind the clock has had a gap (hold, a
	// peer that stopped sending); its next frame goes where the clock is.
	maxLag = Rate * 12 / 100 // 120 ms
	// maxLead: frames this far ahead of the clock (a source faster than
	// real time) are dropped.
	maxLead = Rate * 12 / 100
	// ringSamples is how far (per channel) the writer may fall behind
	// before taps drop frames rather than wait.
	ringSamples = 4 * Rate
	// maxData keeps the file within what a RIFF header can describe.
	maxData = 1<<32 - 1 - sounds.WAVHeaderLen
)

// ErrName is returned for a recording name that is not a plain file name.
var ErrName = errors.New("recording: not a plain file name")

// Format is a recording's file format.
type Format string

// The formats.
const (
	// FormatWAV is RIFF/WAVE, 16-bit PCM (the default), extension .wav.
	FormatWAV Format = "wav"
	// FormatOgg is Opus in Ogg (RFC 7845), extension .opus.
	FormatOgg Format = "ogg"
)

// ErrFormat is returned for a format this package does not write.
var ErrFormat = errors.New("recording: unknown format (want wav or ogg)")

// ParseFormat reads a format name; "" is FormatWAV.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", FormatWAV:
		return FormatWAV, nil
	case FormatOgg:
		return FormatOgg, nil
	}
	return "", fmt.Errorf("%q: %w", s, ErrFormat)
}

// Ext is the file name extension of the format.
func (f Format) Ext() string {
	if f == FormatOgg {
		return ".opus"
	}
	return ".wav"
}

// Path returns where the recording called name lives in dir, its
// extension the format's (one of .wav or .opus it has is replaced). It
// refuses any name that could reach outside dir: separators, "..", a
// leading dot, an absolute path.
func Path(dir, name string, f Format) (string, error) {
	if name == "" || len(name) > 255 || strings.ContainsAny(name, `/\`+"\x00") || name[0] == '.' || !filepath.IsLocal(name) {
		return "", fmt.Errorf("%q: %w", name, ErrName)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(name, FormatWAV.Ext()), FormatOgg.Ext())
	if base == "" {
		return "", fmt.Errorf("%q: %w", name, ErrName)
	}
	return filepath.Join(dir, base+f.Ext()), nil
}

// Option configures a Recorder.
type Option func(*Recorder)

// WithClock makes the Recorder read time from now (tests).
func WithClock(now func() time.Time) Option { return func(r *Recorder) { r.now = now } }

// WithFormat sets the file format; "" is FormatWAV, the default.
func WithFormat(f Format) Option {
	return func(r *Recorder) {
		if f != "" {
			r.format = f
		}
	}
}

// fileWriter writes the interleaved stereo PCM (Rate Hz) of a recording
// in one format. Only the Recorder's writer goroutine uses it.
type fileWriter interface {
	write(pcm []int16) error
	taken() int64 // sample frames written
	close() error
}

// closeWait bounds how long Close waits for the writer (a stuck disk):
// the call goes on ending, and the writer closes the file when it can.
const closeWait = 5 * time.Second

// ErrStuck is returned by Close when the writer did not finish in time.
var ErrStuck = errors.New("recording: the writer is stuck (disk not answering)")

// Recorder writes one stereo recording. Taps write into it from the
// media goroutines of both legs; Close ends it. It is safe for
// concurrent use.
type Recorder struct {
	path   string
	log    *slog.Logger
	file   fileWriter
	format Format
	now    func() time.Time
	start  time.Time

	mu      sync.Mutex
	ring    []int16  // ringSamples stereo sample frames, interleaved
	written int64    // sample frames handed to the file (ring index base)
	pos     [2]int64 // next sample frame of each channel
	began   [2]bool  // the channel had a frame
	closed  bool
	end     int64 // with closed: where the recording ends

	dropped atomic.Uint64 // frames dropped (writer behind, source too fast)

	wmu   sync.Mutex // serialises flushes (the writer's, and tests')
	out   []int16    // the writer's batch, interleaved
	stop  chan struct{}
	done  chan struct{}
	close sync.Once
	dur   time.Duration // set by the writer before done
	err   error         // set by the writer before done
}

// New creates the file at path (its directory too) and starts
// recording; the file must not exist yet. Close it when the call ends.
func New(path string, log *slog.Logger, opts ...Option) (*Recorder, error) {
	r := &Recorder{path: path, log: log, now: time.Now, format: FormatWAV,
		ring: make([]int16, 2*ringSamples), out: make([]int16, 0, 2*ringSamples),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("recording %s: already exists: %w", path, err)
		}
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	switch r.format {
	case FormatWAV:
		r.file, err = newWAVFile(f)
	case FormatOgg:
		r.file, err = newOggFile(f)
	default:
		err = fmt.Errorf("%q: %w", r.format, ErrFormat)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("recording %s: %w", path, err)
	}
	r.start = r.now()
	go r.run()
	return r, nil
}

// Path is the file being written.
func (r *Recorder) Path() string { return r.path }

// Dropped is how many frames were dropped so far.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// clock is the sample frame the wall clock is at (no lock: start and
// now never change).
func (r *Recorder) clock() int64 {
	return int64(r.now().Sub(r.start) * Rate / time.Second)
}

// write places pcm (Rate Hz) on channel ch where the clock says it
// belongs. It never waits for the disk: what does not fit is dropped.
func (r *Recorder) write(ch Channel, pcm []int16) {
	n := int64(len(pcm))
	if n == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	wall := r.clock()
	p := r.pos[ch]
	switch {
	case !r.began[ch] || p < wall-n-maxLag: // the first frame, or after a gap
		p = max(wall-n, 0)
		r.began[ch] = true
	case p > wall+maxLead:
		r.dropped.Add(1)
		return
	}
	if p < r.written { // too late for the part already written
		skip := min(r.written-p, n)
		pcm, p = pcm[skip:], p+skip
	}
	if p+int64(len(pcm)) > r.written+ringSamples {
		r.dropped.Add(1)
		return
	}
	for i, v := range pcm {
		r.ring[int((p+int64(i))%ringSamples)*2+int(ch)] = v
	}
	r.pos[ch] = p + int64(len(pcm))
}

// run drains the ring every flushEvery; once stopped, it writes what is
// left up to the end Close set and closes the file.
func (r *Recorder) run() {
	defer close(r.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.flush(r.clock() - settle)
		case <-r.stop:
			r.finish()
			return
		}
	}
}

// finish writes the rest and closes the file.
func (r *Recorder) finish() {
	r.mu.Lock()
	end := r.end
	r.mu.Unlock()
	for range end/ringSamples + 2 { // bounded: each round writes up to a ring
		if r.flush(end) >= end {
			break
		}
	}
	r.dur = time.Duration(r.file.taken()) * time.Second / Rate
	if err := r.file.close(); err != nil {
		r.err = fmt.Errorf("recording %s: %w", r.path, err)
	}
	if n := r.dropped.Load(); n > 0 {
		r.log.Info("recording dropped frames", "path", r.path, "frames", n)
	}
}

// flush hands the sample frames before upto (at most a ring's worth) to
// the file and leaves silence behind in the ring. It returns how far the
// file now reaches.
func (r *Recorder) flush(upto int64) int64 {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.mu.Lock()
	from := r.written
	upto = min(upto, from+ringSamples)
	if upto <= from {
		r.mu.Unlock()
		return from
	}
	out := r.out[:0]
	for i := from; i < upto; i++ {
		k := int(i%ringSamples) * 2
		out = append(out, r.ring[k], r.ring[k+1])
		r.ring[k], r.ring[k+1] = 0, 0
	}
	r.written = upto
	r.mu.Unlock()
	r.out = out
	if err := r.file.write(out); err != nil {
		r.log.Error("recording stopped: cannot write", "path", r.path, "error", err)
	}
	return upto
}

// Close stops the recording at the clock's present, writes what is left
// and closes the file. It returns the recording's length; the error is
// the first the file gave, or ErrStuck when the disk did not let the
// writer finish within 5 s (the writer closes the file when it can).
// Calling it again returns the same (or waits again while stuck).
func (r *Recorder) Close() (time.Duration, error) {
	r.close.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.end = max(r.clock(), r.pos[0], r.pos[1])
		r.mu.Unlock()
		close(r.stop)
	})
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-r.done:
		return r.dur, r.err
	case <-t.C:
		r.log.Error("recording: the writer is stuck; the file is closed when the disk answers", "path", r.path)
		return 0, fmt.Errorf("recording %s: %w", r.path, ErrStuck)
	}
}
