package media

import (
	"testing"
)

func frameOf(v int16) []int16 {
	f := make([]int16, 160)
	for i := range f {
		if i%2 == 0 {
			f[i] = v
		} else {
			f[i] = -v
		}
	}
	return f
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestCaptureSilenceAndMax(t *testing.T) {
	c := NewCapture(8000, 1600, 480) // 10 frames max, silence after 3 frames
	loud, quiet := frameOf(4000), frameOf(50)
	for range 2 {
		_ = c.WriteFrame(loud)
	}
	_ = c.WriteFrame(quiet)
	_ = c.WriteFrame(quiet)
	if closed(c.Silence()) {
		t.Fatal("silence reported after 2 quiet frames, want 3")
	}
	_ = c.WriteFrame(loud) // speech again resets the count
	for range 2 {
		_ = c.WriteFrame(quiet)
	}
	if closed(c.Silence()) {
		t.Fatal("silence reported too early after speech resumed")
	}
	_ = c.WriteFrame(quiet)
	if !closed(c.Silence()) {
		t.Fatal("no silence after 3 quiet frames")
	}
	if c.Samples() != 8*160 {
		t.Fatalf("samples = %d, want %d", c.Samples(), 8*160)
	}
	for range 5 {
		_ = c.WriteFrame(loud)
	}
	if !closed(c.Full()) || c.Samples() != 1600 {
		t.Fatalf("full = %v with %d samples, want full at 1600", closed(c.Full()), c.Samples())
	}
	pcm := c.Stop(false)
	if len(pcm) != 1600 {
		t.Fatalf("Stop kept %d samples, want 1600", len(pcm))
	}
	_ = c.WriteFrame(loud) // after Stop: dropped, no panic
}

func TestCaptureTrimsTrailingSilence(t *testing.T) {
	c := NewCapture(8000, 8000, 0)
	_ = c.WriteFrame(frameOf(4000))
	_ = c.WriteFrame(frameOf(0))
	_ = c.WriteFrame(frameOf(10))
	if closed(c.Silence()) {
		t.Fatal("silence reported with no silence limit")
	}
	if pcm := c.Stop(true); len(pcm) != 160 {
		t.Fatalf("kept %d samples, want the 160 of speech", len(pcm))
	}
}

// Writing a frame allocates nothing while the buffer has room.
func TestCaptureAllocs(t *testing.T) {
	c := NewCapture(8000, 8000*60, 8000)
	f := frameOf(3000)
	if n := testing.AllocsPerRun(1000, func() { _ = c.WriteFrame(f) }); n != 0 {
		t.Fatalf("WriteFrame allocates %v times per frame", n)
	}
}

// BenchmarkCaptureWriteFrame is one frame recorded: kept, its level
// measured for silence (the buffer is a minute, pre-allocated; refilled
// outside the timer).
func BenchmarkCaptureWriteFrame(b *testing.B) {
	f := frameOf(3000)
	c := NewCapture(8000, 8000*60, 8000)
	b.ReportAllocs()
	for b.Loop() {
		if c.Samples() >= 8000*60 {
			b.StopTimer()
			c = NewCapture(8000, 8000*60, 8000)
			b.StartTimer()
		}
		_ = c.WriteFrame(f)
	}
}
