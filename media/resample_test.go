package media_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

var telephonyRates = []int{8000, 16000, 24000, 32000, 48000}

// toneSamples returns n samples of a freq Hz sine with peak level dBFS.
func toneSamples(n, rate int, freq, dBFS float64) []int16 {
	pcm := make([]int16, n)
	amp := 32767 * math.Pow(10, dBFS/20)
	for i := range pcm {
		pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return pcm
}

// resampleFrames runs pcm through r in 20 ms frames.
func resampleFrames(t testing.TB, r *media.Resampler, from int, pcm []int16) []int16 {
	t.Helper()
	size := media.FrameSamples(from)
	var out []int16
	buf := make([]int16, 4096)
	for off := 0; off < len(pcm); off += size {
		in := pcm[off:min(off+size, len(pcm))]
		want := r.OutLen(len(in))
		n := r.Process(buf, in)
		if n != want {
			t.Fatalf("Process wrote %d, OutLen said %d", n, want)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

func TestNewResampler(t *testing.T) {
	tests := []struct {
		from, to int
		wantErr  bool
	}{
		{8000, 48000, false},
		{48000, 8000, false},
		{44100, 48000, false},
		{48000, 44100, false},
		{11025, 8000, false},
		{8000, 8000, false},
		{0, 8000, true},
		{8000, -1, true},
		{500, 8000, true},
		{8000, 400000, true},
		{8000, 8001, true}, // 8001 phases
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d->%d", tt.from, tt.to), func(t *testing.T) {
			r, err := media.NewResampler(tt.from, tt.to)
			if tt.wantErr {
				if !errors.Is(err, media.ErrUnsupportedRate) {
					t.Fatalf("err = %v, want ErrUnsupportedRate", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from, to := r.Rates(); from != tt.from || to != tt.to {
				t.Errorf("Rates() = %d, %d", from, to)
			}
		})
	}
}

// TestResamplerPassband sends a 1 kHz tone between every pair of rates in
// 20 ms frames: each frame comes out as one frame, and the tone keeps its
// frequency and level.
func TestResamplerPassband(t *testing.T) {
	for _, from := range telephonyRates {
		for _, to := range telephonyRates {
			t.Run(fmt.Sprintf("%d->%d", from, to), func(t *testing.T) {
				r, err := media.NewResampler(from, to)
				if err != nil {
					t.Fatal(err)
				}
				in := toneSamples(from/2, from, 1000, -12) // 500 ms
				if r.OutLen(media.FrameSamples(from)) != media.FrameSamples(to) {
					t.Fatalf("OutLen(frame) = %d, want %d", r.OutLen(media.FrameSamples(from)), media.FrameSamples(to))
				}
				out := resampleFrames(t, r, from, in)
				if len(out) != to/2 {
					t.Fatalf("len = %d, want %d", len(out), to/2)
				}
				steady := out[media.FrameSamples(to):] // past the filter's start-up
				if f := audiotest.DominantFrequency(steady, to, 200, 3800, 5); math.Abs(f-1000) > 10 {
					t.Errorf("dominant %v Hz", f)
				}
				want := audiotest.RMSdBFS(in)
				if got := audiotest.RMSdBFS(steady); math.Abs(got-want) > 0.2 {
					t.Errorf("level %.2f dBFS, want %.2f", got, want)
				}
			})
		}
	}
}

// TestResamplerRejection checks that what the output rate cannot carry
// does not fold back (downsampling) and that images stay out
// (upsampling): at least 40 dB down, as the design promises 65.
func TestResamplerRejection(t *testing.T) {
	tests := []struct {
		from, to int
		tone     float64 // input tone
		measure  float64 // where its alias or image would land in the output
	}{
		{48000, 8000, 6000, 2000},
		{48000, 8000, 4500, 3500},
		{48000, 8000, 13000, 3000},
		{16000, 8000, 6000, 2000},
		{32000, 8000, 5000, 3000},
		{48000, 16000, 10000, 6000},
		{48000, 24000, 14000, 10000},
		{8000, 48000, 1000, 7000},
		{8000, 16000, 3000, 5000},
		{16000, 48000, 2000, 14000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d->%d %.0fHz", tt.from, tt.to, tt.tone), func(t *testing.T) {
			r, err := media.NewResampler(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			in := toneSamples(tt.from/2, tt.from, tt.tone, -6)
			out := resampleFrames(t, r, tt.from, in)[media.FrameSamples(tt.to):]
			inDB := 10 * math.Log10(audiotest.Goertzel(in, tt.from, tt.tone))
			spur := 10 * math.Log10(audiotest.Goertzel(out, tt.to, tt.measure))
			t.Logf("alias/image at %.0f Hz: %.1f dB below the input tone", tt.measure, inDB-spur)
			if inDB-spur < 40 {
				t.Errorf("alias/image only %.1f dB down", inDB-spur)
			}
			if tt.tone >= float64(tt.to)/2 { // nothing of the tone may survive at all
				if lvl := audiotest.RMSdBFS(out); lvl > audiotest.RMSdBFS(in)-40 {
					t.Errorf("output %.1f dBFS for a %.1f dBFS input", lvl, audiotest.RMSdBFS(in))
				}
			}
		})
	}
}

// TestResamplerStreaming checks that the chunking of the input does not
// change a single output sample.
func TestResamplerStreaming(t *testing.T) {
	pairs := [][2]int{{48000, 8000}, {8000, 48000}, {16000, 24000}, {44100, 8000}, {8000, 44100}}
	for _, p := range pairs {
		t.Run(fmt.Sprintf("%d->%d", p[0], p[1]), func(t *testing.T) {
			in := toneSamples(p[0]/4, p[0], 440, -3)
			var ref []int16
			for _, chunk := range []int{len(in), media.FrameSamples(p[0]), 7, 1} {
				r, err := media.NewResampler(p[0], p[1])
				if err != nil {
					t.Fatal(err)
				}
				var out []int16
				buf := make([]int16, r.OutLen(len(in))+8)
				for off := 0; off < len(in); off += chunk {
					n := r.Process(buf, in[off:min(off+chunk, len(in))])
					out = append(out, buf[:n]...)
				}
				if ref == nil {
					ref = out
					continue
				}
				if !slices.Equal(out, ref) {
					t.Fatalf("chunks of %d differ from one call", chunk)
				}
			}
		})
	}
}

func TestResamplerShortDstAndReset(t *testing.T) {
	r, err := media.NewResampler(8000, 48000)
	if err != nil {
		t.Fatal(err)
	}
	in := toneSamples(160, 8000, 1000, -6)
	full := make([]int16, 960)
	if n := r.Process(full, in); n != 960 {
		t.Fatalf("n = %d", n)
	}
	r.Reset()
	short := make([]int16, 100)
	if n := r.Process(short, in); n != 100 {
		t.Fatalf("short n = %d", n)
	}
	if !slices.Equal(short, full[:100]) {
		t.Error("short dst or Reset changed the output")
	}
	if n := r.OutLen(160); n != 960 {
		t.Errorf("timing lost after dropping output: OutLen = %d", n)
	}
}

// TestResampleAll checks length and alignment: the filter delay is
// removed, so the output matches a tone generated at the output rate.
func TestResampleAll(t *testing.T) {
	tests := []struct{ from, to int }{
		{48000, 8000}, {8000, 48000}, {16000, 8000}, {8000, 16000}, {24000, 32000}, {44100, 8000}, {8000, 8000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d->%d", tt.from, tt.to), func(t *testing.T) {
			n := tt.from / 5 // 200 ms
			out, err := media.ResampleAll(toneSamples(n, tt.from, 1000, -6), tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if want := (n*tt.to + tt.from - 1) / tt.from; len(out) != want {
				t.Fatalf("len = %d, want %d", len(out), want)
			}
			want := toneSamples(len(out), tt.to, 1000, -6)
			var maxDiff float64
			for i := len(out) / 4; i < 3*len(out)/4; i++ {
				maxDiff = max(maxDiff, math.Abs(float64(out[i])-float64(want[i])))
			}
			if limit := 0.01 * 16422; maxDiff > limit { // 1% of the peak
				t.Errorf("max difference to the ideal tone %.0f > %.0f", maxDiff, limit)
			}
		})
	}
	if _, err := media.ResampleAll(nil, 8000, 1); !errors.Is(err, media.ErrUnsupportedRate) {
		t.Errorf("bad rate: err = %v", err)
	}
	if out, err := media.ResampleAll(nil, 48000, 8000); err != nil || len(out) != 0 {
		t.Errorf("empty: %v, %v", out, err)
	}
}

// nullSink is a Sink that drops frames.
type nullSink struct{ rate int }

func (d nullSink) WriteFrame([]int16) error { return nil }
func (d nullSink) Rate() int                { return d.rate }
func (d nullSink) String() string           { return "discard" }

func TestRateAdapter(t *testing.T) {
	rec := audiotest.NewRecorder(8000)
	if got := media.NewRateAdapter(rec, 8000); got != media.Sink(rec) {
		t.Fatalf("same rate: got %v, want the sink itself", got)
	}
	a := media.NewRateAdapter(rec, 48000)
	if a.Rate() != 48000 {
		t.Errorf("Rate() = %d", a.Rate())
	}
	if got, want := a.String(), "resample(48000->8000) -> recorder"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	in := toneSamples(48000, 48000, 1000, -12)
	for off := 0; off < len(in); off += 960 {
		if err := a.WriteFrame(in[off : off+960]); err != nil {
			t.Fatal(err)
		}
	}
	if rec.Frames() != 50 || len(rec.PCM()) != 8000 {
		t.Fatalf("recorded %d frames, %d samples", rec.Frames(), len(rec.PCM()))
	}
	if f := audiotest.DominantFrequency(rec.PCM()[160:], 8000, 200, 3800, 5); math.Abs(f-1000) > 10 {
		t.Errorf("dominant %v Hz", f)
	}
	if err := a.WriteFrame(make([]int16, 3000)); err != nil { // a long frame grows the buffer
		t.Fatal(err)
	}

	bad := media.NewRateAdapter(rec, 7)
	if err := bad.WriteFrame(make([]int16, 10)); !errors.Is(err, media.ErrUnsupportedRate) {
		t.Errorf("bad rate: err = %v", err)
	}
	if bad.Rate() != 7 || bad.String() == "" {
		t.Errorf("bad adapter Rate, String = %d, %q", bad.Rate(), bad.String())
	}
	if err := media.NewRateAdapter(nil, 8000).WriteFrame(nil); !errors.Is(err, media.ErrUnsupportedRate) {
		t.Errorf("nil sink: err = %v", err)
	}
}

func TestResamplerNoAllocs(t *testing.T) {
	for _, from := range telephonyRates {
		for _, to := range telephonyRates {
			r, err := media.NewResampler(from, to)
			if err != nil {
				t.Fatal(err)
			}
			in := toneSamples(media.FrameSamples(from), from, 1000, -12)
			out := make([]int16, media.FrameSamples(to))
			if a := testing.AllocsPerRun(20, func() { r.Process(out, in) }); a != 0 {
				t.Errorf("%d->%d Process: %v allocs per frame", from, to, a)
			}
			s := media.NewRateAdapter(nullSink{to}, from)
			if a := testing.AllocsPerRun(20, func() { _ = s.WriteFrame(in) }); a != 0 {
				t.Errorf("%d->%d RateAdapter: %v allocs per frame", from, to, a)
			}
		}
	}
}

func benchmarkResampler(b *testing.B, from, to int) {
	r, err := media.NewResampler(from, to)
	if err != nil {
		b.Fatal(err)
	}
	in := toneSamples(media.FrameSamples(from), from, 1000, -12)
	out := make([]int16, media.FrameSamples(to))
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(in)))
	for b.Loop() {
		r.Process(out, in)
	}
}

// Benchmarks process one 20 ms frame per op.
func BenchmarkResample48kTo8k(b *testing.B)  { benchmarkResampler(b, 48000, 8000) }
func BenchmarkResample8kTo48k(b *testing.B)  { benchmarkResampler(b, 8000, 48000) }
func BenchmarkResample16kTo8k(b *testing.B)  { benchmarkResampler(b, 16000, 8000) }
func BenchmarkResample8kTo16k(b *testing.B)  { benchmarkResampler(b, 8000, 16000) }
func BenchmarkResample48kTo16k(b *testing.B) { benchmarkResampler(b, 48000, 16000) }
func BenchmarkResample44kTo48k(b *testing.B) { benchmarkResampler(b, 44100, 48000) }

func BenchmarkRateAdapter48kTo8k(b *testing.B) {
	s := media.NewRateAdapter(nullSink{8000}, 48000)
	in := toneSamples(960, 48000, 1000, -12)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.WriteFrame(in); err != nil {
			b.Fatal(err)
		}
	}
}
