package mixer

import (
	"fmt"
	"testing"

	"github.com/softswitch/softswitch/media"
)

type nullSink struct{ rate int }

func (s nullSink) WriteFrame([]int16) error { return nil }
func (s nullSink) Rate() int                { return s.rate }
func (s nullSink) String() string           { return "null" }

// BenchmarkTick measures one 20 ms tick of rooms of members, half at
// 16 kHz (browsers on Opus) and half at 8 kHz (phones on G.711), all
// talking (the talker limit decides how many are mixed). Divide ns/op by
// 20 ms for the share of one core a room takes.
func BenchmarkTick(b *testing.B) {
	for _, size := range []int{2, 10, 50} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			r := newTestRoom(b, Config{})
			var ms []*Member
			var frames [][]int16
			for i := range size {
				rate := 16000
				if i%2 == 1 {
					rate = 8000
				}
				m, err := r.Join(fmt.Sprint(i), rate, nullSink{rate})
				if err != nil {
					b.Fatal(err)
				}
				f := make([]int16, media.FrameSamples(rate))
				media.NewTone(300+float64(i)*50, -20, rate).Next(f)
				ms, frames = append(ms, m), append(frames, f)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i, m := range ms {
					_ = m.WriteFrame(frames[i])
				}
				r.tick()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/member")
		})
	}
}
