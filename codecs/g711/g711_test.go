package g711

import (
	"bytes"
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the reference implementation")

// goldenCase is one of the four golden tables: an encoder over all 65536
// inputs (indexed by the input as uint16) or a decoder over all 256 codes
// (little-endian int16 per code).
type goldenCase struct {
	file string
	ref  func() []byte // built from the reference implementation
	got  func() []byte // built from the package under test
}

func encodeAll(enc func(int16) byte) []byte {
	out := make([]byte, 1<<16)
	for i := range out {
		out[i] = enc(int16(uint16(i)))
	}
	return out
}

func decodeAll(dec func(byte) int16) []byte {
	out := make([]byte, 0, 512)
	for c := range 256 {
		out = binary.LittleEndian.AppendUint16(out, uint16(dec(byte(c))))
	}
	return out
}

func one(f func([]byte, []int16) int) func(int16) byte {
	return func(v int16) byte {
		var b [1]byte
		f(b[:], []int16{v})
		return b[0]
	}
}

func oneDec(f func([]int16, []byte) int) func(byte) int16 {
	return func(c byte) int16 {
		var s [1]int16
		f(s[:], []byte{c})
		return s[0]
	}
}

// bulk runs the frame functions over whole tables at once, the way
// callers use them.
func bulkEncode(f func([]byte, []int16) int) []byte {
	pcm := make([]int16, 1<<16)
	for i := range pcm {
		pcm[i] = int16(uint16(i))
	}
	out := make([]byte, len(pcm))
	f(out, pcm)
	return out
}

func bulkDecode(f func([]int16, []byte) int) []byte {
	codes := make([]byte, 256)
	for i := range codes {
		codes[i] = byte(i)
	}
	pcm := make([]int16, 256)
	f(pcm, codes)
	out := make([]byte, 0, 512)
	for _, v := range pcm {
		out = binary.LittleEndian.AppendUint16(out, uint16(v))
	}
	return out
}

var goldenCases = []goldenCase{
	{"ulaw_encode.golden", func() []byte { return encodeAll(refULawCompress) }, func() []byte { return bulkEncode(EncodeULaw) }},
	{"alaw_encode.golden", func() []byte { return encodeAll(refALawCompress) }, func() []byte { return bulkEncode(EncodeALaw) }},
	{"ulaw_decode.golden", func() []byte { return decodeAll(refULawExpand) }, func() []byte { return bulkDecode(DecodeULaw) }},
	{"alaw_decode.golden", func() []byte { return decodeAll(refALawExpand) }, func() []byte { return bulkDecode(DecodeALaw) }},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, tc.ref(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test -update once): %v", err)
			}
			if ref := tc.ref(); !bytes.Equal(ref, want) {
				t.Fatalf("reference implementation no longer matches %s", path)
			}
			got := tc.got()
			if len(got) != len(want) {
				t.Fatalf("len = %d, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("byte %d (input %d): got %#02x, want %#02x", i, i, got[i], want[i])
				}
			}
		})
	}
}

func TestKnownValues(t *testing.T) {
	encU, encA := one(EncodeULaw), one(EncodeALaw)
	decU, decA := oneDec(DecodeULaw), oneDec(DecodeALaw)
	tests := []struct {
		name string
		got  int
		want int
	}{
		// µ-law (G.711 table 2a): 0xFF and 0x7F are +0 and -0.
		{"ulaw enc 0", int(encU(0)), 0xFF},
		{"ulaw enc -1", int(encU(-1)), 0x7F},
		{"ulaw enc 32767", int(encU(32767)), 0x80},
		{"ulaw enc -32768", int(encU(-32768)), 0x00},
		{"ulaw enc 8", int(encU(8)), 0xFE},
		{"ulaw enc -9", int(encU(-9)), 0x7E},
		{"ulaw dec 0x00", int(decU(0x00)), -32124},
		{"ulaw dec 0x80", int(decU(0x80)), 32124},
		{"ulaw dec 0xFF", int(decU(0xFF)), 0},
		{"ulaw dec 0x7F", int(decU(0x7F)), 0},
		{"ulaw dec 0xFE", int(decU(0xFE)), 8},
		{"ulaw dec 0xF0", int(decU(0xF0)), 120},
		{"ulaw dec 0xEF", int(decU(0xEF)), 132},
		{"ulaw dec 0xEE", int(decU(0xEE)), 148},
		// A-law (G.711 table 1a): even bits inverted, no zero code.
		{"alaw enc 0", int(encA(0)), 0xD5},
		{"alaw enc -1", int(encA(-1)), 0x55},
		{"alaw enc 32767", int(encA(32767)), 0xAA},
		{"alaw enc -32768", int(encA(-32768)), 0x2A},
		{"alaw dec 0xD5", int(decA(0xD5)), 8},
		{"alaw dec 0x55", int(decA(0x55)), -8},
		{"alaw dec 0x2A", int(decA(0x2A)), -32256},
		{"alaw dec 0xAA", int(decA(0xAA)), 32256},
		{"alaw dec 0xC5", int(decA(0xC5)), 264},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d (%#x), want %d (%#x)", tt.name, tt.got, tt.got, tt.want, tt.want)
		}
	}
}

// TestSymmetry checks the one's-complement convention: x and ^x code the
// same magnitude with opposite sign bits.
func TestSymmetry(t *testing.T) {
	for _, tc := range []struct {
		name string
		enc  func(int16) byte
	}{{"ulaw", one(EncodeULaw)}, {"alaw", one(EncodeALaw)}} {
		for i := range 1 << 15 {
			x := int16(i)
			if p, n := tc.enc(x), tc.enc(^x); p^n != 0x80 {
				t.Fatalf("%s: enc(%d)=%#02x, enc(%d)=%#02x: not mirrored", tc.name, x, p, ^x, n)
			}
		}
	}
}

// TestCodeRoundTrip decodes every code and encodes it again.
func TestCodeRoundTrip(t *testing.T) {
	for c := range 256 {
		code := byte(c)
		want := code
		if code == 0x7F { // µ-law -0 decodes to 0, which encodes as +0
			want = 0xFF
		}
		if got := one(EncodeULaw)(oneDec(DecodeULaw)(code)); got != want {
			t.Errorf("ulaw %#02x -> %#02x", code, got)
		}
		if got := one(EncodeALaw)(oneDec(DecodeALaw)(code)); got != code {
			t.Errorf("alaw %#02x -> %#02x", code, got)
		}
	}
}

// halfStep is the largest round-trip error for a sample coded as code:
// half the quantisation step of its segment, or the clipping distance in
// the top segment.
func halfStepULaw(code byte) int {
	seg := (^code >> 4) & 7
	h := (8 << seg) / 2
	if ^code&0x7F == 0x7F {
		h = max(h, 32768-32124)
	}
	return h
}

func halfStepALaw(code byte) int {
	seg := ((code ^ 0x55) >> 4) & 7
	step := 16
	if seg > 1 {
		step = 16 << (seg - 1)
	}
	return step / 2
}

func TestRoundTripErrorBound(t *testing.T) {
	tests := []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
		half func(byte) int
	}{
		{"ulaw", one(EncodeULaw), oneDec(DecodeULaw), halfStepULaw},
		{"alaw", one(EncodeALaw), oneDec(DecodeALaw), halfStepALaw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 1 << 16 {
				x := int16(uint16(i))
				code := tt.enc(x)
				y := tt.dec(code)
				if err := abs(int(x) - int(y)); err > tt.half(code) {
					t.Fatalf("%d -> %#02x -> %d: error %d > %d", x, code, y, err, tt.half(code))
				}
			}
		})
	}
}

// TestSineSNR checks the signal-to-quantisation-noise ratio G.711 is
// known for (about 38 dB over a wide range of levels).
func TestSineSNR(t *testing.T) {
	tests := []struct {
		name   string
		enc    func([]byte, []int16) int
		dec    func([]int16, []byte) int
		dBFS   float64
		minSNR float64
	}{
		{"ulaw -3dBFS", EncodeULaw, DecodeULaw, -3, 37},
		{"ulaw -30dBFS", EncodeULaw, DecodeULaw, -30, 34},
		{"alaw -3dBFS", EncodeALaw, DecodeALaw, -3, 37},
		{"alaw -30dBFS", EncodeALaw, DecodeALaw, -30, 34},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 8000
			pcm := make([]int16, n)
			amp := 32767 * math.Pow(10, tt.dBFS/20)
			for i := range pcm {
				pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*1004*float64(i)/8000)))
			}
			codes := make([]byte, n)
			out := make([]int16, n)
			tt.dec(out, codes[:tt.enc(codes, pcm)])
			var sig, noise float64
			for i := range pcm {
				sig += float64(pcm[i]) * float64(pcm[i])
				d := float64(pcm[i]) - float64(out[i])
				noise += d * d
			}
			if snr := 10 * math.Log10(sig/noise); snr < tt.minSNR {
				t.Errorf("SNR %.1f dB < %.1f dB", snr, tt.minSNR)
			}
		})
	}
}

func TestShortDst(t *testing.T) {
	pcm := []int16{0, 1, 2, 3}
	if n := EncodeULaw(make([]byte, 2), pcm); n != 2 {
		t.Errorf("EncodeULaw n = %d, want 2", n)
	}
	if n := EncodeALaw(make([]byte, 8), pcm); n != 4 {
		t.Errorf("EncodeALaw n = %d, want 4", n)
	}
	if n := DecodeULaw(make([]int16, 3), []byte{1, 2, 3, 4}); n != 3 {
		t.Errorf("DecodeULaw n = %d, want 3", n)
	}
	if n := DecodeALaw(nil, []byte{1}); n != 0 {
		t.Errorf("DecodeALaw n = %d, want 0", n)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
