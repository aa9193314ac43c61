package b2bua

import (
	"time"

	"github.com/softswitch/softswitch/media"
)

// ringback plays a ringing tone (425 Hz, 1 s on, 4 s off) into g until
// stop is called; stop waits for it to end.
func ringback(g *media.Gate) (stop func()) {
	release := g.Hold()
	dst := g.Override()
	done := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(done)
		tone := media.NewTone(425, -12, dst.Rate())
		frame := make([]int16, media.FrameSamples(dst.Rate()))
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for n := 0; ; n = (n + 1) % 250 { // 250 frames: one 5 s cadence
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if n < 50 {
				tone.Next(frame)
			} else {
				clear(frame)
			}
			if err := dst.WriteFrame(frame); err != nil {
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		release()
	}
}
