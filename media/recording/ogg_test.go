package recording_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/recording"
)

// readOgg decodes an Ogg Opus recording with libopusfile into its two
// channels at 48 kHz.
func readOgg(t *testing.T, data []byte) (left, right []int16) {
	t.Helper()
	ch, err := audiotest.DecodeOggOpus(data, 2)
	if err != nil {
		t.Fatal(err)
	}
	return ch[0], ch[1]
}

// A recording in Ogg Opus (recordings.format: ogg) decodes with
// libopusfile to the caller's tone on the left, the callee's on the
// right, exactly as long as the recording.
func TestOggRecording(t *testing.T) {
	clk := &fakeClock{}
	path := filepath.Join(t.TempDir(), "call.opus")
	r, err := recording.New(path, quiet, recording.WithClock(clk.now), recording.WithFormat(recording.FormatOgg))
	if err != nil {
		t.Fatal(err)
	}
	left, right := r.Tap(recording.Left, audiotest.NewRecorder(8000)), r.Tap(recording.Right, audiotest.NewRecorder(8000))
	for i := range 100 { // 2 s
		clk.advance(media.FrameDuration)
		_ = left.WriteFrame(tone(160, 8000, 1000, 160*i))
		_ = right.WriteFrame(tone(160, 8000, 440, 160*i))
	}
	clk.advance(5 * time.Millisecond) // a partial last frame: padded, then trimmed
	d, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, rr := readOgg(t, b)
	if want := int(d * 48000 / time.Second); len(l) != want || d != 2005*time.Millisecond {
		t.Errorf("decoded %d samples at 48 kHz, want %d (Close said %v)", len(l), want, d)
	}
	for _, ch := range []struct {
		name      string
		pcm       []int16
		want, not float64
	}{{"left", l, 1000, 440}, {"right", rr, 440, 1000}} {
		mid := ch.pcm[len(ch.pcm)/4 : 3*len(ch.pcm)/4]
		f := audiotest.DominantFrequency(mid, 48000, 200, 3000, 10)
		t.Logf("%s: %.0f Hz, separation %.1f dB", ch.name, f, 10*math.Log10(audiotest.Goertzel(mid, 48000, ch.want)/audiotest.Goertzel(mid, 48000, ch.not)))
		if math.Abs(f-ch.want) > 15 || audiotest.Goertzel(mid, 48000, ch.want) < 100*audiotest.Goertzel(mid, 48000, ch.not) {
			t.Errorf("%s channel at %.0f Hz, want %.0f well above %.0f", ch.name, f, ch.want, ch.not)
		}
	}
	t.Logf("%d bytes for %v (%.1f kbit/s)", len(b), d, float64(len(b))*8/d.Seconds()/1000)
}

// An Ogg recording cut mid-call (kill -9: no end-of-stream page) still
// decodes up to its last page, about half a second before the cut.
func TestOggReadableWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.opus")
	r, err := recording.New(path, quiet, recording.WithFormat(recording.FormatOgg))
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
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := readOgg(t, b)
	got := time.Duration(len(l)) * time.Second / 48000
	if got < elapsed-700*time.Millisecond || got > elapsed {
		t.Fatalf("the open file decodes to %v after %v", got, elapsed)
	}
	if f := audiotest.DominantFrequency(l[len(l)/2:], 48000, 200, 3000, 10); math.Abs(f-1000) > 15 {
		t.Errorf("left at %.0f Hz", f)
	}
	t.Logf("open file decodes to %v of %v", got, elapsed)
}
