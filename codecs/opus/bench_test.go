package opus_test

import (
	"fmt"
	"testing"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
)

// The benchmarks work on the speech of the embedded test audio, one 20 ms
// frame per operation, cycling through about 5 s of it: a tone or silence
// would drive the encoder down cheaper paths than a real call does.

func BenchmarkEncode8k(b *testing.B)    { benchEncode(b, opus.Config{Rate: 8000}) }
func BenchmarkEncode8kFEC(b *testing.B) { benchEncode(b, opus.Config{Rate: 8000, FEC: true}) }
func BenchmarkEncode48k(b *testing.B)   { benchEncode(b, opus.Config{Rate: 48000}) }

// BenchmarkEncode16kFEC is a browser's conference leg: wideband, with FEC.
func BenchmarkEncode16kFEC(b *testing.B) { benchEncode(b, opus.Config{Rate: 16000, FEC: true}) }
func BenchmarkEncode48kC10(b *testing.B) { benchEncode(b, opus.Config{Rate: 48000, Complexity: 10}) }

func BenchmarkDecode8k(b *testing.B)  { benchDecode(b, opus.Config{Rate: 8000}, 8000) }
func BenchmarkDecode48k(b *testing.B) { benchDecode(b, opus.Config{Rate: 48000}, 48000) }

// BenchmarkDecode16kFrom48k decodes at 16 kHz (a conference) what a
// browser's 48 kHz encoder sent.
func BenchmarkDecode16kFrom48k(b *testing.B) { benchDecode(b, opus.Config{Rate: 48000}, 16000) }

// BenchmarkDecode8kFrom48k decodes at 8 kHz what a 48 kHz encoder sent,
// as from a browser.
func BenchmarkDecode8kFrom48k(b *testing.B) { benchDecode(b, opus.Config{Rate: 48000}, 8000) }

// BenchmarkTranscodePair8k is one 20 ms frame of a transcoded call in
// both directions at the default complexity: Opus decode + µ-law encode
// (browser to phone), µ-law decode + Opus encode (phone to browser).
func BenchmarkTranscodePair8k(b *testing.B) {
	cfg := opus.Config{Rate: 8000}
	enc, dec := newPair(b, cfg, 1)
	pcm := frames(speech(b, cfg.Rate), cfg.Rate)
	packets := encodeAll(b, mustEncoder(b, cfg), speech(b, cfg.Rate), cfg.Rate)
	ulaw := make([][]byte, len(pcm))
	for i, frame := range pcm {
		ulaw[i] = make([]byte, len(frame))
		g711.EncodeULaw(ulaw[i], frame)
	}
	toPhone, toBrowser := make([]int16, 160), make([]int16, 160)
	ulawOut, opusOut := make([]byte, 160), make([]byte, opus.MaxPayload)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % len(packets)
		if _, err := dec.Decode(toPhone, packets[k]); err != nil {
			b.Fatal(err)
		}
		g711.EncodeULaw(ulawOut, toPhone)
		g711.DecodeULaw(toBrowser, ulaw[k])
		if _, err := enc.Encode(opusOut, toBrowser); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCalls(b)
}

// BenchmarkOpusPair is one Opus encode and one Opus decode of a 20 ms
// frame (the Opus share of a transcoded call) by rate and complexity.
// At 48 kHz a real Opus ↔ PCMU call would also resample; G.711 is left
// out as it costs under 1 %.
func BenchmarkOpusPair(b *testing.B) {
	for _, rate := range []int{8000, 48000} {
		for _, complexity := range []int{1, 5, 10} {
			cfg := opus.Config{Rate: rate, Complexity: complexity}
			b.Run(fmt.Sprintf("%dk/c%d", rate/1000, complexity), func(b *testing.B) {
				enc, dec := newPair(b, cfg, 1)
				pcm := frames(speech(b, rate), rate)
				packets := encodeAll(b, mustEncoder(b, cfg), speech(b, rate), rate)
				out, payload := make([]int16, rate/50), make([]byte, opus.MaxPayload)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					k := i % len(packets)
					if _, err := dec.Decode(out, packets[k]); err != nil {
						b.Fatal(err)
					}
					if _, err := enc.Encode(payload, pcm[k]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				reportCalls(b)
			})
		}
	}
}

func benchEncode(b *testing.B, cfg opus.Config) {
	enc := mustEncoder(b, cfg)
	pcm := frames(speech(b, cfg.Rate), cfg.Rate)
	payload := make([]byte, opus.MaxPayload)
	b.ReportAllocs()
	i, bytes := 0, 0
	for b.Loop() {
		n, err := enc.Encode(payload, pcm[i%len(pcm)])
		if err != nil {
			b.Fatal(err)
		}
		bytes += n
		i++
	}
	b.ReportMetric(float64(bytes)*8*50/1000/float64(i), "kbit/s")
}

// benchDecode decodes at rate what an encoder for cfg sent.
func benchDecode(b *testing.B, cfg opus.Config, rate int) {
	packets := encodeAll(b, mustEncoder(b, cfg), speech(b, cfg.Rate), cfg.Rate)
	dec, err := opus.NewDecoder(opus.Config{Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, rate/50)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := dec.Decode(out, packets[i%len(packets)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func mustEncoder(tb testing.TB, cfg opus.Config) *opus.Encoder {
	tb.Helper()
	enc, err := opus.NewEncoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc
}

// reportCalls reports how many calls of this cost per 20 ms frame two
// cores could carry at 100 % CPU: 2 × 20 ms / cost.
func reportCalls(b *testing.B) {
	if perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N); perOp > 0 {
		b.ReportMetric(2*20e6/perOp, "calls/2cores")
	}
}
