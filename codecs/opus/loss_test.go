package opus_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media/audiotest"
)

// TestConceal checks the length of concealed frames before and after
// packets, for every rate and both decoder channel counts, and that no
// sample past the frame is written.
func TestConceal(t *testing.T) {
	const sentinel = 0x5a5a
	for _, rate := range []int{8000, 12000, 16000, 24000, 48000} {
		for _, channels := range []int{1, 2} {
			t.Run(fmt.Sprintf("%d/ch%d", rate, channels), func(t *testing.T) {
				n := rate / 50
				enc, err := opus.NewEncoder(opus.Config{Rate: rate})
				if err != nil {
					t.Fatal(err)
				}
				dec, err := opus.NewDecoder(opus.Config{Rate: rate, Channels: channels})
				if err != nil {
					t.Fatal(err)
				}
				in := frames(tone(rate, 1000, 8192, 10), rate)
				payload := make([]byte, opus.MaxPayload)
				dst := make([]int16, 2*n)
				steps := []bool{false, false, true, true, true, false, true, true, true, true, true, true, true}
				for i, received := range steps {
					for j := range dst {
						dst[j] = sentinel
					}
					var p []byte // nil = lost
					if received {
						m, err := enc.Encode(payload, in[i%len(in)])
						if err != nil {
							t.Fatal(err)
						}
						p = payload[:m]
					}
					got, err := dec.Decode(dst, p)
					if err != nil || got != n {
						t.Fatalf("step %d (received %v): Decode = %d, %v; want %d", i, received, got, err, n)
					}
					for j, v := range dst[n:] {
						if v != sentinel {
							t.Fatalf("step %d: sample %d past the frame written", i, n+j)
						}
					}
				}
			})
		}
	}
}

// TestConcealTone checks that the first concealed frame of a steady tone
// carries on the tone.
func TestConcealTone(t *testing.T) {
	for _, rate := range []int{8000, 48000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			enc, dec := newPair(t, opus.Config{Rate: rate}, 1)
			dst := make([]int16, rate/50)
			for _, p := range encodeAll(t, enc, tone(rate, 1000, 8192, 10), rate) {
				if _, err := dec.Decode(dst, p); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := dec.Decode(dst, nil); err != nil {
				t.Fatal(err)
			}
			if f := audiotest.DominantFrequency(dst, rate, 300, 3000, 50); math.Abs(f-1000) > 25 {
				t.Errorf("concealed frame at %v Hz, want 1000", f)
			}
			if l := audiotest.RMSdBFS(dst); l < -30 {
				t.Errorf("concealed frame at %.1f dBFS, want near -15", l)
			}
		})
	}
}

// TestFEC loses the frame where a tone changes from 1000 to 600 Hz and
// recovers it from the next packet's FEC data: the recovered frame is
// much closer to what the decoder would have given with no loss than
// the concealed one. Without FEC data DecodeFEC still gives a frame.
func TestFEC(t *testing.T) {
	const lost = 10 // the first 600 Hz frame
	tests := []struct {
		rate      int
		channels  int
		fec       bool
		setLoss   int     // SetLoss(setLoss) after NewEncoder; -1: not called
		minGainDB float64 // how much closer FEC is than PLC; 0 = no FEC data
	}{
		{8000, 1, true, -1, 6},
		{8000, 2, true, -1, 6},
		{16000, 1, true, -1, 6},
		{48000, 1, true, -1, 6},
		{48000, 2, true, -1, 6},
		{8000, 1, false, -1, 0},
		{48000, 1, false, -1, 0},
		// The receiver reports loss: FEC comes on; no loss: it goes off.
		{8000, 1, false, 5, 6},
		{48000, 1, false, 5, 6},
		{8000, 1, true, 0, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/ch%d/fec=%v/loss=%d", tt.rate, tt.channels, tt.fec, tt.setLoss), func(t *testing.T) {
			n := tt.rate / 50
			enc, err := opus.NewEncoder(opus.Config{Rate: tt.rate, FEC: tt.fec})
			if err != nil {
				t.Fatal(err)
			}
			if tt.setLoss >= 0 {
				if err := enc.SetLoss(tt.setLoss); err != nil {
					t.Fatal(err)
				}
			}
			in := append(tone(tt.rate, 1000, 8000, lost), tone(tt.rate, 600, 8000, 10)...)
			packets := encodeAll(t, enc, in, tt.rate)
			// decode runs a fresh decoder up to the lost frame and returns
			// that frame as recover gives it.
			decode := func(recover func(*opus.Decoder, []int16) (int, error)) []int16 {
				dec, err := opus.NewDecoder(opus.Config{Rate: tt.rate, Channels: tt.channels})
				if err != nil {
					t.Fatal(err)
				}
				dst := make([]int16, n)
				for _, p := range packets[:lost] {
					if _, err := dec.Decode(dst, p); err != nil {
						t.Fatal(err)
					}
				}
				got, err := recover(dec, dst)
				if err != nil || got != n {
					t.Fatalf("recovered %d samples, %v; want %d", got, err, n)
				}
				return dst
			}
			ref := decode(func(d *opus.Decoder, dst []int16) (int, error) { return d.Decode(dst, packets[lost]) })
			plc := decode(func(d *opus.Decoder, dst []int16) (int, error) { return d.Decode(dst, nil) })
			fec := decode(func(d *opus.Decoder, dst []int16) (int, error) { return d.DecodeFEC(dst, packets[lost+1]) })
			plcErr, fecErr := errorDB(plc, ref), errorDB(fec, ref)
			t.Logf("error against the received frame: plc %.1f dB, fec %.1f dB", plcErr, fecErr)
			if tt.minGainDB > 0 && plcErr-fecErr < tt.minGainDB {
				t.Errorf("fec error %.1f dB, want at least %v dB below plc's %.1f dB", fecErr, tt.minGainDB, plcErr)
			}
			if tt.minGainDB == 0 && math.Abs(plcErr-fecErr) > 0.1 {
				t.Errorf("without fec data: fec error %.1f dB, want plc's %.1f dB", fecErr, plcErr)
			}
		})
	}
}

func TestDecodeFECErrors(t *testing.T) {
	for _, channels := range []int{1, 2} {
		dec, err := opus.NewDecoder(opus.Config{Rate: 8000, Channels: channels})
		if err != nil {
			t.Fatal(err)
		}
		good := encodeSilence(t, 8000)
		tests := []struct {
			name  string
			dst   []int16
			next  []byte
			wantN int
			want  error
		}{
			{"good", make([]int16, 160), good, 160, nil},
			{"empty next conceals", make([]int16, 160), []byte{}, 160, nil},
			{"nil next conceals", make([]int16, 320), nil, 160, nil},
			{"short dst", make([]int16, 159), good, 0, opus.ErrShortBuffer},
			{"short dst with nil next", make([]int16, 10), nil, 0, opus.ErrShortBuffer},
			{"malformed next", make([]int16, 160), []byte{0x03}, 0, opus.ErrPayload},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("ch%d/%s", channels, tt.name), func(t *testing.T) {
				n, err := dec.DecodeFEC(tt.dst, tt.next)
				if !errors.Is(err, tt.want) || n != tt.wantN {
					t.Fatalf("DecodeFEC = %d, %v; want %d, %v", n, err, tt.wantN, tt.want)
				}
			})
		}
	}
}

// newPair returns an encoder for cfg and a decoder for cfg with channels.
func newPair(tb testing.TB, cfg opus.Config, channels int) (*opus.Encoder, *opus.Decoder) {
	tb.Helper()
	enc, err := opus.NewEncoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Channels = channels
	dec, err := opus.NewDecoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return enc, dec
}

// encodeAll encodes pcm frame by frame into separate payloads.
func encodeAll(tb testing.TB, enc *opus.Encoder, pcm []int16, rate int) [][]byte {
	tb.Helper()
	var out [][]byte
	for i, frame := range frames(pcm, rate) {
		buf := make([]byte, opus.MaxPayload)
		n, err := enc.Encode(buf, frame)
		if err != nil {
			tb.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, buf[:n:n])
	}
	return out
}

// errorDB is the power of got-want relative to full scale, in dB.
func errorDB(got, want []int16) float64 {
	var sum float64
	for i := range want {
		d := (float64(got[i]) - float64(want[i])) / 32768
		sum += d * d
	}
	return 10 * math.Log10(sum/float64(len(want))+1e-12)
}
