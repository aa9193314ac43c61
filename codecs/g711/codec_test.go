package g711

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestNewByName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr bool
		str     string
	}{
		{"PCMU", false, "PCMU"},
		{"pcmu", false, "PCMU"},
		{"PcMa", false, "PCMA"},
		{"opus", true, ""},
		{"", true, ""},
		{"PCMU ", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := NewEncoder(tt.name)
			dec, derr := NewDecoder(tt.name)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownCodec) || !errors.Is(derr, ErrUnknownCodec) {
					t.Fatalf("errors = %v, %v; want ErrUnknownCodec", err, derr)
				}
				return
			}
			if err != nil || derr != nil {
				t.Fatalf("errors = %v, %v", err, derr)
			}
			if got := fmt.Sprint(enc); got != tt.str+"(encode)" {
				t.Errorf("encoder String() = %q", got)
			}
			if got := fmt.Sprint(dec); got != tt.str+"(decode)" {
				t.Errorf("decoder String() = %q", got)
			}
		})
	}
}

func TestEncoderDecoderMatchFunctions(t *testing.T) {
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = int16(i*409 - 32768)
	}
	for _, tc := range []struct {
		name string
		enc  func([]byte, []int16) int
		dec  func([]int16, []byte) int
	}{{PCMU, EncodeULaw, DecodeULaw}, {PCMA, EncodeALaw, DecodeALaw}} {
		enc, _ := NewEncoder(tc.name)
		dec, _ := NewDecoder(tc.name)
		payload := make([]byte, 200)
		n, err := enc.Encode(payload, pcm)
		if err != nil || n != len(pcm) {
			t.Fatalf("%s Encode = %d, %v", tc.name, n, err)
		}
		want := make([]byte, len(pcm))
		tc.enc(want, pcm)
		if !slices.Equal(payload[:n], want) {
			t.Fatalf("%s Encode differs from function", tc.name)
		}
		out := make([]int16, 200)
		m, err := dec.Decode(out, payload[:n])
		if err != nil || m != n {
			t.Fatalf("%s Decode = %d, %v", tc.name, m, err)
		}
		wantPCM := make([]int16, n)
		tc.dec(wantPCM, payload[:n])
		if !slices.Equal(out[:m], wantPCM) {
			t.Fatalf("%s Decode differs from function", tc.name)
		}
	}
}

func TestShortBuffer(t *testing.T) {
	enc, _ := NewEncoder(PCMU)
	if n, err := enc.Encode(make([]byte, 159), make([]int16, 160)); !errors.Is(err, ErrShortBuffer) || n != 0 {
		t.Errorf("Encode short = %d, %v", n, err)
	}
	dec, _ := NewDecoder(PCMA)
	if n, err := dec.Decode(make([]int16, 10), make([]byte, 11)); !errors.Is(err, ErrShortBuffer) || n != 0 {
		t.Errorf("Decode short = %d, %v", n, err)
	}
	if n, err := dec.Decode(make([]int16, 159), nil); !errors.Is(err, ErrShortBuffer) || n != 0 {
		t.Errorf("conceal short = %d, %v", n, err)
	}
}

// TestConcealment walks a decoder through frames and losses.
func TestConcealment(t *testing.T) {
	frame := func(n int, code byte) []byte { // code 0x80 decodes to 32124 in µ-law
		b := make([]byte, n)
		for i := range b {
			b[i] = code
		}
		return b
	}
	type step struct {
		payload []byte // nil = lost
		wantLen int
		wantVal int16 // every sample of the output
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"loss before any frame is 160 silent samples", []step{
			{nil, 160, 0},
			{nil, 160, 0},
		}},
		{"halving then silence after three losses", []step{
			{frame(160, 0x80), 160, 32124},
			{nil, 160, 16062},
			{nil, 160, 8031},
			{nil, 160, 4015},
			{nil, 160, 0},
			{nil, 160, 0},
		}},
		{"a received frame resets the count and the length", []step{
			{frame(160, 0x80), 160, 32124},
			{nil, 160, 16062},
			{frame(80, 0x00), 80, -32124},
			{nil, 80, -16062},
			{nil, 80, -8031},
			{nil, 80, -4015},
			{nil, 80, 0},
			{frame(320, 0xFF), 320, 0},
			{nil, 320, 0},
		}},
		{"empty payload is not a loss", []step{
			{frame(160, 0x80), 160, 32124},
			{[]byte{}, 0, 0},
			{nil, 160, 16062},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, _ := NewDecoder(PCMU)
			dst := make([]int16, 400)
			for i, s := range tt.steps {
				n, err := dec.Decode(dst, s.payload)
				if err != nil || n != s.wantLen {
					t.Fatalf("step %d: Decode = %d, %v; want %d", i, n, err, s.wantLen)
				}
				for j, v := range dst[:n] {
					if v != s.wantVal {
						t.Fatalf("step %d: sample %d = %d, want %d", i, j, v, s.wantVal)
					}
				}
			}
		})
	}
}

func TestNoAllocs(t *testing.T) {
	pcm := make([]int16, 160)
	payload := make([]byte, 160)
	enc, _ := NewEncoder(PCMA)
	dec, _ := NewDecoder(PCMA)
	tests := []struct {
		name string
		f    func()
	}{
		{"EncodeULaw", func() { EncodeULaw(payload, pcm) }},
		{"DecodeULaw", func() { DecodeULaw(pcm, payload) }},
		{"EncodeALaw", func() { EncodeALaw(payload, pcm) }},
		{"DecodeALaw", func() { DecodeALaw(pcm, payload) }},
		{"Encoder.Encode", func() { _, _ = enc.Encode(payload, pcm) }},
		{"Decoder.Decode", func() { _, _ = dec.Decode(pcm, payload) }},
		{"Decoder.Decode(nil)", func() { _, _ = dec.Decode(pcm, nil) }},
	}
	for _, tt := range tests {
		if a := testing.AllocsPerRun(100, tt.f); a != 0 {
			t.Errorf("%s: %v allocs per frame", tt.name, a)
		}
	}
}
