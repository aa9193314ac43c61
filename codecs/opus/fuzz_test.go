package opus_test

import (
	"errors"
	"testing"

	"github.com/softswitch/softswitch/codecs/opus"
)

// FuzzDecode feeds arbitrary payloads to mono and stereo decoders at 8
// and 48 kHz: Decode and DecodeFEC either succeed within dst or fail with
// ErrPayload or ErrShortBuffer, never panic, and the decoder still
// conceals afterwards.
func FuzzDecode(f *testing.F) {
	for _, rate := range []int{8000, 48000} {
		enc, err := opus.NewEncoder(opus.Config{Rate: rate, FEC: true})
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range encodeAll(f, enc, tone(rate, 1000, 8192, 3), rate) {
			f.Add(p)
		}
	}
	f.Add([]byte{0x03})                   // code 3 without a frame count
	f.Add([]byte{0x03, 0x00})             // code 3 with no frames
	f.Add([]byte{0x1b, 0x07})             // code 3, 7 × 60 ms
	f.Add([]byte{0x01, 0x00})             // code 1 with an odd length
	f.Add([]byte{0x02, 0xfb})             // code 2 with a length past the end
	f.Add([]byte{0x18, 0x00})             // one 60 ms frame
	f.Add([]byte{0xfc, 0xff, 0xfe, 0x00}) // CELT FB 20 ms, garbage data
	f.Add([]byte{})
	f.Add([]byte{0xf8, 0xff, 0xfe})       // Chrome's 20 ms CELT silence (DTX comfort packet)
	f.Add([]byte{0x78, 0x07, 0xd0, 0x0b}) // SILK WB 20 ms, truncated
	type target struct {
		dec *opus.Decoder
		dst []int16
	}
	var targets []target
	for _, cfg := range []opus.Config{{Rate: 8000}, {Rate: 8000, Channels: 2}, {Rate: 48000}, {Rate: 48000, Channels: 2}} {
		dec, err := opus.NewDecoder(cfg)
		if err != nil {
			f.Fatal(err)
		}
		targets = append(targets, target{dec, make([]int16, cfg.Rate/50*3)}) // room for 60 ms
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, tg := range targets {
			check := func(op string, n int, err error) {
				if err != nil {
					if !errors.Is(err, opus.ErrPayload) && !errors.Is(err, opus.ErrShortBuffer) {
						t.Fatalf("%v %s: unexpected error %v", tg.dec, op, err)
					}
					if n != 0 {
						t.Fatalf("%v %s: n = %d with error %v", tg.dec, op, n, err)
					}
					return
				}
				if n < 0 || n > len(tg.dst) {
					t.Fatalf("%v %s: n = %d, dst holds %d", tg.dec, op, n, len(tg.dst))
				}
			}
			n, err := tg.dec.DecodeFEC(tg.dst, payload)
			check("DecodeFEC", n, err)
			n, err = tg.dec.Decode(tg.dst, payload)
			check("Decode", n, err)
			if n, err := tg.dec.Decode(tg.dst, nil); err != nil || n != len(tg.dst)/3 {
				t.Fatalf("%v conceal after %x = %d, %v", tg.dec, payload, n, err)
			}
		}
	})
}
