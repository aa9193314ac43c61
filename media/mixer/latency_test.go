package mixer

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
)

// onsetSink reports when the first loud sample after arm reaches it, as
// the time that sample plays (the frame's write time plus its offset).
type onsetSink struct {
	rate  int
	armed atomic.Bool
	at    chan time.Time
}

func (s *onsetSink) WriteFrame(pcm []int16) error {
	if !s.armed.Load() {
		return nil
	}
	now := time.Now()
	for i, v := range pcm {
		if v > 2000 || v < -2000 {
			s.armed.Store(false)
			s.at <- now.Add(time.Duration(i) * time.Second / time.Duration(s.rate))
			return nil
		}
	}
	return nil
}

func (s *onsetSink) Rate() int      { return s.rate }
func (s *onsetSink) String() string { return "onset" }

// BenchmarkLatency measures the delay the mixer adds, on its real clock:
// a member sends 20 ms frames of silence and, once per op, a frame of a
// loud tone; the time from handing that frame to the room until its first
// loud sample plays out of the other member's sink (write time + offset in
// the frame) is the added latency: waiting for the next tick, the queue,
// and the resamplers for 8 kHz members. Reported as p50 and p99.
func BenchmarkLatency(b *testing.B) {
	for _, rate := range []int{16000, 8000} {
		b.Run(map[int]string{16000: "browsers-16k", 8000: "phones-8k"}[rate], func(b *testing.B) {
			r, err := New("latency", Config{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			src, err := r.Join("a", rate, nullSink{rate})
			if err != nil {
				b.Fatal(err)
			}
			sink := &onsetSink{rate: rate, at: make(chan time.Time, 1)}
			if _, err := r.Join("b", rate, sink); err != nil {
				b.Fatal(err)
			}
			silence := make([]int16, media.FrameSamples(rate))
			tone := make([]int16, media.FrameSamples(rate))
			media.NewTone(1000, -6, rate).Next(tone)
			var lat []time.Duration
			for b.Loop() {
				for range 2 {
					_ = src.WriteFrame(silence)
					time.Sleep(media.FrameDuration)
				}
				sink.armed.Store(true)
				sent := time.Now()
				_ = src.WriteFrame(tone)
				select {
				case at := <-sink.at:
					lat = append(lat, at.Sub(sent))
				case <-time.After(time.Second):
					b.Fatal("the tone never came out of the mixer")
				}
				_ = src.WriteFrame(silence)
				time.Sleep(media.FrameDuration)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(len(lat)), "samples")
		})
	}
}
