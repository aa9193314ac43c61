package recording_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/recording"
)

// benchRecorder is a recorder on a clock that moves 20 ms a frame.
func benchRecorder(b *testing.B, f recording.Format) (*recording.Recorder, *fakeClock) {
	b.Helper()
	clk := &fakeClock{}
	r, err := recording.New(filepath.Join(b.TempDir(), "bench"+f.Ext()), quiet, recording.WithClock(clk.now), recording.WithFormat(f))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = r.Close() })
	return r, clk
}

// What recording adds on the media path per 20 ms frame: an 8 kHz frame
// (G.711 legs), a 48 kHz frame resampled (an Opus leg), a relayed PCMU
// payload decoded for the file.
func BenchmarkTap(b *testing.B) {
	ulaw := make([]byte, 160)
	g711.EncodeULaw(ulaw, tone(160, 8000, 1000, 0))
	for _, bc := range []struct {
		name  string
		rate  int
		write func(t *recording.Tap, pcm []int16)
	}{
		{"frame8k", 8000, func(t *recording.Tap, pcm []int16) { _ = t.WriteFrame(pcm) }},
		{"frame48k", 48000, func(t *recording.Tap, pcm []int16) { _ = t.WriteFrame(pcm) }},
		{"payloadPCMU", 8000, func(t *recording.Tap, _ []int16) { _, _ = t.WritePayload(media.CodecPCMU, ulaw) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, clk := benchRecorder(b, recording.FormatWAV)
			tap := r.Tap(recording.Left, nullSink{rate: bc.rate})
			pcm := tone(bc.rate/50, bc.rate, 1000, 0)
			b.ReportAllocs()
			for b.Loop() {
				clk.advance(media.FrameDuration)
				bc.write(tap, pcm)
			}
		})
	}
}

// The writer's cost per second of a two-party call, off the media path:
// 50 frames from each side, then the file written (WAV, or both channels
// encoded to Opus in Ogg) as the writer does every 250 ms.
func BenchmarkWriterSecond(b *testing.B) {
	for _, f := range []recording.Format{recording.FormatWAV, recording.FormatOgg} {
		b.Run(string(f), func(b *testing.B) {
			r, clk := benchRecorder(b, f)
			left, right := r.Tap(recording.Left, nullSink{rate: 8000}), r.Tap(recording.Right, nullSink{rate: 8000})
			l, rr := tone(160, 8000, 1000, 0), tone(160, 8000, 440, 0)
			b.ReportAllocs()
			for b.Loop() {
				for range 50 {
					clk.advance(media.FrameDuration)
					_ = left.WriteFrame(l)
					_ = right.WriteFrame(rr)
				}
				r.FlushForBench(time.Second)
			}
		})
	}
}
