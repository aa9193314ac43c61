package opus_test

import (
	"testing"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
)

// TestNoAllocs proves that nothing is allocated per frame, including the
// downmix of a stereo decoder and a transcoded Opus ↔ PCMU frame.
func TestNoAllocs(t *testing.T) {
	type codec struct {
		enc    *opus.Encoder
		mono   *opus.Decoder
		stereo *opus.Decoder
		pcm    []int16
		packet []byte
	}
	newCodec := func(cfg opus.Config) codec {
		enc, mono := newPair(t, cfg, 1)
		_, stereo := newPair(t, cfg, 2)
		packets := encodeAll(t, enc, speech(t, cfg.Rate), cfg.Rate)
		return codec{enc, mono, stereo, make([]int16, cfg.Rate/50), packets[len(packets)/2]}
	}
	c8 := newCodec(opus.Config{Rate: 8000})
	c48 := newCodec(opus.Config{Rate: 48000, FEC: true, Complexity: 10})
	payload := make([]byte, opus.MaxPayload)
	ulaw := make([]byte, 160)
	type step struct {
		name string
		f    func() error
	}
	var tests []step
	for _, c := range []struct {
		name string
		codec
	}{{"8k", c8}, {"48k", c48}} {
		tests = append(tests, []step{
			{c.name + " Encode", func() error { _, err := c.enc.Encode(payload, c.pcm); return err }},
			{c.name + " Decode", func() error { _, err := c.mono.Decode(c.pcm, c.packet); return err }},
			{c.name + " Decode stereo", func() error { _, err := c.stereo.Decode(c.pcm, c.packet); return err }},
			{c.name + " Decode(nil)", func() error { _, err := c.mono.Decode(c.pcm, nil); return err }},
			{c.name + " Decode(nil) stereo", func() error { _, err := c.stereo.Decode(c.pcm, nil); return err }},
			{c.name + " DecodeFEC", func() error { _, err := c.mono.DecodeFEC(c.pcm, c.packet); return err }},
			{c.name + " DecodeFEC stereo", func() error { _, err := c.stereo.DecodeFEC(c.pcm, c.packet); return err }},
		}...)
	}
	tests = append(tests, step{"transcode pair 8k", func() error {
		if _, err := c8.mono.Decode(c8.pcm, c8.packet); err != nil {
			return err
		}
		g711.EncodeULaw(ulaw, c8.pcm)
		g711.DecodeULaw(c8.pcm, ulaw)
		_, err := c8.enc.Encode(payload, c8.pcm)
		return err
	}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if a := testing.AllocsPerRun(100, func() { err = tt.f() }); a != 0 {
				t.Errorf("%v allocs per frame", a)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
