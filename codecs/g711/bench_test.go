package g711

import (
	"math"
	"testing"
)

// benchFrame is one 20 ms frame at 8000 Hz of a -12 dBFS 1 kHz tone.
func benchFrame() []int16 {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(8192 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return pcm
}

func BenchmarkEncodeULaw(b *testing.B) {
	pcm, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(pcm)))
	for b.Loop() {
		EncodeULaw(dst, pcm)
	}
}

func BenchmarkDecodeULaw(b *testing.B) {
	payload, dst := make([]byte, 160), make([]int16, 160)
	EncodeULaw(payload, benchFrame())
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		DecodeULaw(dst, payload)
	}
}

func BenchmarkEncodeALaw(b *testing.B) {
	pcm, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(pcm)))
	for b.Loop() {
		EncodeALaw(dst, pcm)
	}
}

func BenchmarkDecodeALaw(b *testing.B) {
	payload, dst := make([]byte, 160), make([]int16, 160)
	EncodeALaw(payload, benchFrame())
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		DecodeALaw(dst, payload)
	}
}

func BenchmarkEncoder(b *testing.B) {
	enc, err := NewEncoder(PCMU)
	if err != nil {
		b.Fatal(err)
	}
	pcm, dst := benchFrame(), make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc.Encode(dst, pcm); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoder(b *testing.B) {
	dec, err := NewDecoder(PCMU)
	if err != nil {
		b.Fatal(err)
	}
	payload, dst := make([]byte, 160), make([]int16, 160)
	EncodeULaw(payload, benchFrame())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(dst, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecoderConceal(b *testing.B) {
	dec, err := NewDecoder(PCMU)
	if err != nil {
		b.Fatal(err)
	}
	payload, dst := make([]byte, 160), make([]int16, 160)
	EncodeULaw(payload, benchFrame())
	b.ReportAllocs()
	for b.Loop() {
		_, _ = dec.Decode(dst, payload)
		_, _ = dec.Decode(dst, nil)
	}
}
