package g711

import "testing"

// FuzzRoundTrip encodes arbitrary PCM with both laws and checks the
// round-trip error bound and the decoder's concealment bookkeeping.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{0, 0, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f}, uint8(0))
	f.Add(make([]byte, 320), uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, losses uint8) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		codes := make([]byte, len(pcm))
		out := make([]int16, len(pcm))
		for _, tc := range []struct {
			name string
			enc  func([]byte, []int16) int
			dec  func([]int16, []byte) int
			half func(byte) int
		}{{PCMU, EncodeULaw, DecodeULaw, halfStepULaw}, {PCMA, EncodeALaw, DecodeALaw, halfStepALaw}} {
			if n := tc.enc(codes, pcm); n != len(pcm) {
				t.Fatalf("%s encode n = %d", tc.name, n)
			}
			tc.dec(out, codes)
			for i := range pcm {
				if e := abs(int(pcm[i]) - int(out[i])); e > tc.half(codes[i]) {
					t.Fatalf("%s: %d -> %d, error %d", tc.name, pcm[i], out[i], e)
				}
			}
			dec, err := NewDecoder(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]int16, max(len(codes), 160))
			if _, err := dec.Decode(buf, codes); err != nil {
				t.Fatal(err)
			}
			for range losses % 8 {
				n, err := dec.Decode(buf, nil)
				want := len(codes)
				if want == 0 {
					want = 160
				}
				if err != nil || n != want {
					t.Fatalf("%s conceal = %d, %v; want %d", tc.name, n, err, want)
				}
			}
		}
	})
}
