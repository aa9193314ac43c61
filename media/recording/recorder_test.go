package recording_test

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/recording"
	"github.com/softswitch/softswitch/sounds"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeClock is a clock the test moves.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// tone returns n samples of freq Hz at rate, at -10 dBFS.
func tone(n, rate int, freq float64, phase int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(10362 * math.Sin(2*math.Pi*freq*float64(phase+i)/float64(rate)))
	}
	return pcm
}

// channels reads both channels of a recording.
func channels(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := sounds.DecodeWAVChannel(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sounds.DecodeWAVChannel(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	if l.Rate != recording.Rate {
		t.Fatalf("rate %d", l.Rate)
	}
	return l.PCM, r.PCM
}

func dominant(pcm []int16) float64 {
	return audiotest.DominantFrequency(pcm, recording.Rate, 200, 3000, 20)
}

func newRecorder(t *testing.T, clk *fakeClock) (*recording.Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec", "call.wav")
	r, err := recording.New(path, quiet, recording.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	return r, path
}

// The caller's audio lands on the left channel and the callee's on the
// right, whatever the rate each side's frames come at, and the file lasts
// as long as the recording ran.
func TestRecorderStereo(t *testing.T) {
	clk := &fakeClock{}
	r, path := newRecorder(t, clk)
	left := r.Tap(recording.Left, audiotest.NewRecorder(8000))
	right := r.Tap(recording.Right, audiotest.NewRecorder(48000)) // an Opus leg at 48 kHz
	for i := range 100 {                                          // 2 s
		clk.advance(media.FrameDuration)
		if err := left.WriteFrame(tone(160, 8000, 1000, 160*i)); err != nil {
			t.Fatal(err)
		}
		if err := right.WriteFrame(tone(960, 48000, 440, 960*i)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if d != 2*time.Second {
		t.Errorf("duration %v, want 2s", d)
	}
	l, rr := channels(t, path)
	if got := time.Duration(len(l)) * time.Second / recording.Rate; got != d {
		t.Errorf("file holds %v, Close said %v", got, d)
	}
	if f := dominant(l); math.Abs(f-1000) > 20 {
		t.Errorf("left channel at %.0f Hz, want the caller's 1000", f)
	}
	if f := dominant(rr); math.Abs(f-440) > 20 {
		t.Errorf("right channel at %.0f Hz, want the callee's 440", f)
	}
	if g := audiotest.Goertzel(l, recording.Rate, 440); g > 1e-4 {
		t.Errorf("the callee leaks into the left channel: %g", g)
	}
	if r.Dropped() != 0 {
		t.Errorf("%d frames dropped", r.Dropped())
	}
}

// A side that stops sending (held, a silent peer) records silence and
// comes back in step with the clock, not where it left off.
func TestRecorderGapStaysInStep(t *testing.T) {
	clk := &fakeClock{}
	r, path := newRecorder(t, clk)
	left := r.Tap(recording.Left, audiotest.NewRecorder(8000))
	right := r.Tap(recording.Right, audiotest.NewRecorder(8000))
	for i := range 150 { // 3 s; the right side is silent from 1 s to 2 s
		clk.advance(media.FrameDuration)
		_ = left.WriteFrame(tone(160, 8000, 1000, 160*i))
		if i < 50 || i >= 100 {
			_ = right.WriteFrame(tone(160, 8000, 440, 160*i))
		}
	}
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
	l, rr := channels(t, path)
	if len(l) != 3*recording.Rate {
		t.Fatalf("%d samples, want 3 s", len(l))
	}
	sec := recording.Rate
	for _, w := range []struct {
		from, to int
		loud     bool
	}{{0, sec - 160, true}, {sec + 160, 2*sec - 160, false}, {2*sec + 160, 3 * sec, true}} {
		level := audiotest.RMSdBFS(rr[w.from:w.to])
		if w.loud != (level > -20) {
			t.Errorf("right channel %d..%d at %.1f dBFS, want loud=%v", w.from, w.to, level, w.loud)
		}
	}
	if level := audiotest.RMSdBFS(l[sec : 2*sec]); level < -20 {
		t.Errorf("left channel went quiet during the right's gap: %.1f dBFS", level)
	}
}

// The media path never waits: frames far ahead of the clock (a source
// faster than real time) are dropped, and writing them returns at once.
func TestRecorderDropsRatherThanBlocks(t *testing.T) {
	clk := &fakeClock{}
	r, path := newRecorder(t, clk)
	left := r.Tap(recording.Left, audiotest.NewRecorder(8000))
	frame := tone(160, 8000, 1000, 0)
	start := time.Now()
	for range 10000 { // 200 s of audio with the clock standing still
		_ = left.WriteFrame(frame)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("10000 frames took %v", el)
	}
	if r.Dropped() < 9000 {
		t.Errorf("only %d frames dropped", r.Dropped())
	}
	clk.advance(time.Second)
	d, err := r.Close()
	if err != nil || d != time.Second {
		t.Fatalf("close: %v %v", d, err)
	}
	if l, _ := channels(t, path); len(l) != recording.Rate {
		t.Errorf("%d samples", len(l))
	}
}

// The file is valid while it is being written: the header is patched as
// it grows, so a process killed mid-call leaves a readable recording of
// all but the last half second or so.
func TestRecorderReadableWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.wav")
	r, err := recording.New(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	left := r.Tap(recording.Left, audiotest.NewRecorder(8000))
	start := time.Now()
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	for i := range 75 { // 1.5 s in real time
		<-tick.C
		_ = left.WriteFrame(tone(160, 8000, 1000, 160*i))
	}
	elapsed := time.Since(start)
	l, _ := channels(t, path) // not closed: as a kill -9 would leave it
	got := time.Duration(len(l)) * time.Second / recording.Rate
	if got < elapsed-700*time.Millisecond || got > elapsed {
		t.Fatalf("the open file holds %v after %v", got, elapsed)
	}
	if f := dominant(l[len(l)/2:]); math.Abs(f-1000) > 20 {
		t.Errorf("left at %.0f Hz", f)
	}
	t.Logf("open file holds %v of %v", got, elapsed)
}

// An existing file is never overwritten.
func TestRecorderRefusesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wav")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := recording.New(path, quiet); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("got %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Fatal("existing file changed")
	}
}

func TestPath(t *testing.T) {
	dir := "/data/recordings"
	for _, name := range []string{"", "..", ".", "../x", "a/b", "/etc/passwd", `a\b`, ".hidden", "x\x00y", ".wav", ".opus"} {
		if p, err := recording.Path(dir, name, recording.FormatWAV); !errors.Is(err, recording.ErrName) {
			t.Errorf("Path(%q) = %q, %v; want ErrName", name, p, err)
		}
	}
	for _, tt := range []struct {
		name string
		f    recording.Format
		want string
	}{
		{"call-1", recording.FormatWAV, dir + "/call-1.wav"},
		{"a.wav", recording.FormatWAV, dir + "/a.wav"},
		{"x..y", recording.FormatWAV, dir + "/x..y.wav"},
		{"call-1", recording.FormatOgg, dir + "/call-1.opus"},
		{"a.wav", recording.FormatOgg, dir + "/a.opus"},
	} {
		if p, err := recording.Path(dir, tt.name, tt.f); err != nil || p != tt.want {
			t.Errorf("Path(%q, %s) = %q, %v; want %q", tt.name, tt.f, p, err, tt.want)
		}
	}
	for in, want := range map[string]recording.Format{"": recording.FormatWAV, "wav": recording.FormatWAV, "ogg": recording.FormatOgg} {
		if f, err := recording.ParseFormat(in); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, f, err)
		}
	}
	if _, err := recording.ParseFormat("mp3"); !errors.Is(err, recording.ErrFormat) {
		t.Errorf("ParseFormat(mp3): %v", err)
	}
}
