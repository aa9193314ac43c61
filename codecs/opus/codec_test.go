package opus_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media/audiotest"
)

var (
	_ codecs.Encoder = (*opus.Encoder)(nil)
	_ codecs.Decoder = (*opus.Decoder)(nil)
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  opus.Config
		str  string // rate in String(); "" = ErrConfig expected
	}{
		{"default", opus.Config{}, "48k"},
		{"8k", opus.Config{Rate: 8000}, "8k"},
		{"12k stereo", opus.Config{Rate: 12000, Channels: 2}, "12k"},
		{"16k fec", opus.Config{Rate: 16000, FEC: true}, "16k"},
		{"24k bitrate", opus.Config{Rate: 24000, Bitrate: 24000}, "24k"},
		{"48k complexity 10", opus.Config{Rate: 48000, Complexity: 10}, "48k"},
		{"rate 44100", opus.Config{Rate: 44100}, ""},
		{"rate 8001", opus.Config{Rate: 8001}, ""},
		{"channels 3", opus.Config{Channels: 3}, ""},
		{"complexity 11", opus.Config{Complexity: 11}, ""},
		{"bitrate 100", opus.Config{Bitrate: 100}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := opus.NewEncoder(tt.cfg)
			dec, derr := opus.NewDecoder(tt.cfg)
			if tt.str == "" {
				if !errors.Is(err, opus.ErrConfig) || !errors.Is(derr, opus.ErrConfig) {
					t.Fatalf("errors = %v, %v; want ErrConfig", err, derr)
				}
				if enc != nil || dec != nil {
					t.Fatalf("got %v, %v with an error", enc, dec)
				}
				return
			}
			if err != nil || derr != nil {
				t.Fatalf("errors = %v, %v", err, derr)
			}
			if got, want := fmt.Sprint(enc), "Opus(encode,"+tt.str+")"; got != want {
				t.Errorf("encoder String() = %q, want %q", got, want)
			}
			if got, want := fmt.Sprint(dec), "Opus(decode,"+tt.str+")"; got != want {
				t.Errorf("decoder String() = %q, want %q", got, want)
			}
		})
	}
}

// TestTone sends a 1 kHz tone through an encoder and a decoder and
// measures what comes out, after the codec's start-up.
func TestTone(t *testing.T) {
	const (
		freq      = 1000.0
		amp       = 8192 // -12 dBFS peak, -15 dBFS RMS
		numFrames = 50   // 1 s
		skip      = 3    // frames of start-up
	)
	tests := []struct {
		rate     int
		channels int // of the decoder
		fec      bool
	}{
		{8000, 1, false},
		{8000, 2, false},
		{8000, 1, true},
		{12000, 1, false},
		{16000, 1, false},
		{24000, 1, false},
		{48000, 1, false},
		{48000, 2, false},
		{48000, 1, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/ch%d/fec=%v", tt.rate, tt.channels, tt.fec), func(t *testing.T) {
			enc, err := opus.NewEncoder(opus.Config{Rate: tt.rate, FEC: tt.fec})
			if err != nil {
				t.Fatal(err)
			}
			dec, err := opus.NewDecoder(opus.Config{Rate: tt.rate, Channels: tt.channels})
			if err != nil {
				t.Fatal(err)
			}
			in := tone(tt.rate, freq, amp, numFrames)
			var out []int16
			payload := make([]byte, opus.MaxPayload)
			pcm := make([]int16, tt.rate/50)
			for i, frame := range frames(in, tt.rate) {
				n, err := enc.Encode(payload, frame)
				if err != nil || n == 0 {
					t.Fatalf("frame %d: Encode = %d, %v", i, n, err)
				}
				m, err := dec.Decode(pcm, payload[:n])
				if err != nil || m != len(frame) {
					t.Fatalf("frame %d: Decode = %d, %v; want %d", i, m, err, len(frame))
				}
				if i >= skip {
					out = append(out, pcm[:m]...)
				}
			}
			inLevel := audiotest.RMSdBFS(in[skip*tt.rate/50:])
			gotFreq, gotLevel := audiotest.DominantFrequency(out, tt.rate, 300, 3000, 5), audiotest.RMSdBFS(out)
			t.Logf("%v Hz at %.2f dBFS (input %.2f dBFS)", gotFreq, gotLevel, inLevel)
			if math.Abs(gotFreq-freq) > 10 {
				t.Errorf("dominant frequency %v Hz, want %v ± 10", gotFreq, freq)
			}
			if math.Abs(gotLevel-inLevel) > 3 {
				t.Errorf("level %.2f dBFS, want %.2f ± 3", gotLevel, inLevel)
			}
			if got, want := audiotest.Goertzel(out, tt.rate, freq), audiotest.Goertzel(in, tt.rate, freq); math.Abs(10*math.Log10(got/want)) > 3 {
				t.Errorf("power at %v Hz %.2f dB, want %.2f ± 3", freq, 10*math.Log10(got), 10*math.Log10(want))
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	enc, err := opus.NewEncoder(opus.Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dst  []byte
		pcm  []int16
		want error
	}{
		{"short frame", make([]byte, opus.MaxPayload), make([]int16, 159), opus.ErrFrameSize},
		{"long frame", make([]byte, opus.MaxPayload), make([]int16, 320), opus.ErrFrameSize},
		{"no pcm", make([]byte, opus.MaxPayload), nil, opus.ErrFrameSize},
		{"48 kHz frame at 8 kHz", make([]byte, opus.MaxPayload), make([]int16, 960), opus.ErrFrameSize},
		{"empty dst", []byte{}, make([]int16, 160), opus.ErrShortBuffer},
		{"nil dst", nil, make([]int16, 160), opus.ErrShortBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, err := enc.Encode(tt.dst, tt.pcm); !errors.Is(err, tt.want) || n != 0 {
				t.Fatalf("Encode = %d, %v; want %v", n, err, tt.want)
			}
		})
	}
}

// TestEncodeSmallDst checks that len(dst) caps the payload and that
// libopus never writes past it.
func TestEncodeSmallDst(t *testing.T) {
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000, Bitrate: 64000})
	if err != nil {
		t.Fatal(err)
	}
	for i, frame := range frames(speech(t, 48000)[:48000], 48000) {
		buf := make([]byte, 64)
		for j := range buf {
			buf[j] = 0xA5
		}
		n, err := enc.Encode(buf[:10], frame)
		if err != nil || n < 1 || n > 10 {
			t.Fatalf("frame %d: Encode into 10 bytes = %d, %v", i, n, err)
		}
		for j, b := range buf[10:] {
			if b != 0xA5 {
				t.Fatalf("frame %d: byte %d past dst overwritten", i, 10+j)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	dec, err := opus.NewDecoder(opus.Config{Rate: 8000})
	if err != nil {
		t.Fatal(err)
	}
	good := encodeSilence(t, 8000)
	tests := []struct {
		name    string
		dst     []int16
		payload []byte
		want    error
	}{
		{"empty payload", make([]int16, 160), []byte{}, opus.ErrPayload},
		{"code 3 without frame count", make([]int16, 160), []byte{0x03}, opus.ErrPayload},
		{"code 3 with zero frames", make([]int16, 160), []byte{0x03, 0x00}, opus.ErrPayload},
		{"code 3 over 120 ms", make([]int16, 960), []byte{0x1b, 0x07}, opus.ErrPayload},
		{"code 1 with odd length", make([]int16, 160), []byte{0x01, 0x00}, opus.ErrPayload},
		{"code 2 length past end", make([]int16, 160), []byte{0x02, 0xfb}, opus.ErrPayload},
		{"60 ms packet into a 20 ms dst", make([]int16, 160), []byte{0x18, 0x00}, opus.ErrShortBuffer},
		{"empty dst", []int16{}, good, opus.ErrShortBuffer},
		{"dst shorter than the frame", make([]int16, 159), good, opus.ErrShortBuffer},
		{"conceal into a short dst", make([]int16, 159), nil, opus.ErrShortBuffer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, err := dec.Decode(tt.dst, tt.payload); !errors.Is(err, tt.want) || n != 0 {
				t.Fatalf("Decode = %d, %v; want %v", n, err, tt.want)
			}
		})
	}
}

// encodeSilence returns one encoded 20 ms frame of silence at rate.
func encodeSilence(tb testing.TB, rate int) []byte {
	tb.Helper()
	enc, err := opus.NewEncoder(opus.Config{Rate: rate})
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, opus.MaxPayload)
	n, err := enc.Encode(buf, make([]int16, rate/50))
	if err != nil {
		tb.Fatal(err)
	}
	return buf[:n]
}
