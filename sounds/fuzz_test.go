package sounds_test

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/softswitch/softswitch/sounds"
)

// FuzzDecodeWAV decodes arbitrary files as prompts are loaded: errors wrap
// a sentinel, an accepted file has a sane rate and no more samples than
// bytes, and re-encoding it decodes to the same audio.
func FuzzDecodeWAV(f *testing.F) {
	shipped, err := os.ReadFile("test-audio.wav") // sox output, cut short: its data size overstates
	if err != nil {
		f.Fatal(err)
	}
	f.Add(shipped[:1024])
	f.Add(wavSpec{tag: 1, channels: 1, rate: 8000, bits: 16, data: le16(1, 2, 3), dataSize: -1}.bytes())
	f.Add(wavSpec{tag: 1, channels: 2, rate: 44100, bits: 8, data: []byte{1, 2, 3, 4}, dataSize: 99}.bytes())
	f.Add(wavSpec{tag: 0xFFFE, channels: 1, rate: 16000, bits: 16, sub: pcmGUID, dataSize: -1,
		before: []chunk{{"LIST", []byte("x")}}, data: le16(5)}.bytes())
	f.Add(sounds.EncodeWAV(&sounds.Prompt{Rate: 48000, PCM: []int16{1, -1}}))
	f.Add([]byte("RIFF\xff\xff\xff\xffWAVEfmt \xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for ch := range 3 {
			if c, err := sounds.DecodeWAVChannel(data, ch); err == nil && len(c.PCM) > len(data) {
				t.Fatalf("channel %d: %d samples from %d bytes", ch, len(c.PCM), len(data))
			} else if err != nil && !errors.Is(err, sounds.ErrMalformed) && !errors.Is(err, sounds.ErrUnsupported) {
				t.Fatalf("channel %d: error wraps no sentinel: %v", ch, err)
			}
		}
		p, err := sounds.DecodeWAV(data)
		if err != nil {
			if !errors.Is(err, sounds.ErrMalformed) && !errors.Is(err, sounds.ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if p.Rate < 1000 || p.Rate > 384000 {
			t.Fatalf("rate %d accepted", p.Rate)
		}
		if len(p.PCM) > len(data) {
			t.Fatalf("%d samples from %d bytes", len(p.PCM), len(data))
		}
		again, err := sounds.DecodeWAV(sounds.EncodeWAV(p))
		if err != nil || !slices.Equal(again.PCM, p.PCM) {
			t.Fatalf("re-encoding changed the audio: %v", err)
		}
	})
}
