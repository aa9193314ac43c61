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

// BenchmarkRooms ticks every room once per op, as the rooms' clocks do
// every 20 ms: rooms × members, half on Opus at the mixing rate (16 kHz
// browsers, or 48 kHz at that mixing rate) and half on G.711 (8 kHz,
// resampled both ways), all talking. "core%/member" is one member's share
// of one core at 50 ticks a second.
func BenchmarkRooms(b *testing.B) {
	for _, tc := range []struct{ rooms, members, rate int }{
		{1, 2, 16000}, {1, 10, 16000}, {1, 50, 16000}, {10, 10, 16000}, {10, 10, 48000},
	} {
		b.Run(fmt.Sprintf("rooms=%d/members=%d/rate=%d", tc.rooms, tc.members, tc.rate), func(b *testing.B) {
			var rooms []*Room
			var ms []*Member
			var frames [][]int16
			for range tc.rooms {
				r := newTestRoom(b, Config{Rate: tc.rate})
				rooms = append(rooms, r)
				for i := range tc.members {
					rate := tc.rate
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
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i, m := range ms {
					_ = m.WriteFrame(frames[i])
				}
				for _, r := range rooms {
					r.tick()
				}
			}
			perMember := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(len(ms))
			b.ReportMetric(perMember, "ns/member")
			b.ReportMetric(100*perMember/float64(media.FrameDuration.Nanoseconds()), "core%/member")
		})
	}
}
