package recording

import (
	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
)

// maxPacket is the most audio one payload holds (120 ms of Opus), in
// samples at Rate.
const maxPacket = Rate * 120 / 1000

// Tap records the audio written to a leg's sink on one channel and
// passes it on unchanged. Frames at another rate than Rate are resampled
// for the file; payloads the destination takes as they are (a bridge
// relaying the same codec) are decoded for the file only. Like any Sink
// it is written by one goroutine at a time; it allocates nothing per
// frame (a resampler when the rate changes, an Opus decoder once).
type Tap struct {
	r   *Recorder
	ch  Channel
	dst media.Sink
	dps media.PayloadSink // dst as a PayloadSink, or nil

	rs     *media.Resampler
	rsFrom int
	pcm    []int16 // a decoded payload, or a resampled frame
	opus   *opus.Decoder
}

var (
	_ media.Sink        = (*Tap)(nil)
	_ media.PayloadSink = (*Tap)(nil)
)

// Tap returns a sink in front of dst recording on channel ch. Taps come
// and go with the legs (a transfer brings a new one); the recording goes on.
func (r *Recorder) Tap(ch Channel, dst media.Sink) *Tap {
	t := &Tap{r: r, ch: ch, dst: dst, pcm: make([]int16, maxPacket)}
	t.dps, _ = dst.(media.PayloadSink)
	return t
}

// WriteFrame records pcm and writes it to the destination.
func (t *Tap) WriteFrame(pcm []int16) error {
	t.record(pcm, len(pcm)*50) // a frame is 20 ms
	return t.dst.WriteFrame(pcm)
}

// record resamples pcm from rate to Rate if needed and hands it over.
func (t *Tap) record(pcm []int16, rate int) {
	if rate == Rate {
		t.r.write(t.ch, pcm)
		return
	}
	if t.rs == nil || t.rsFrom != rate {
		rs, err := media.NewResampler(rate, Rate)
		if err != nil {
			t.r.dropped.Add(1)
			return
		}
		t.rs, t.rsFrom = rs, rate
	}
	n := t.rs.OutLen(len(pcm))
	if n > len(t.pcm) {
		t.r.dropped.Add(1)
		return
	}
	t.r.write(t.ch, t.pcm[:t.rs.Process(t.pcm[:n], pcm)])
}

// Takes reports whether the destination takes codec as it is.
func (t *Tap) Takes(codec media.Codec) bool { return t.dps != nil && t.dps.Takes(codec) }

// WritePayload passes an encoded frame to the destination; when it took
// it, the frame is decoded for the recording.
func (t *Tap) WritePayload(codec media.Codec, payload []byte) (bool, error) {
	if t.dps == nil {
		return false, nil
	}
	took, err := t.dps.WritePayload(codec, payload)
	if took {
		t.recordPayload(codec, payload)
	}
	return took, err
}

func (t *Tap) recordPayload(codec media.Codec, payload []byte) {
	var n int
	switch codec {
	case media.CodecPCMU:
		n = g711.DecodeULaw(t.pcm, payload)
	case media.CodecPCMA:
		n = g711.DecodeALaw(t.pcm, payload)
	case media.CodecOpus:
		if t.opus == nil {
			d, err := opus.NewDecoder(opus.Config{Rate: Rate})
			if err != nil {
				t.r.dropped.Add(1)
				return
			}
			t.opus = d
		}
		var err error
		if n, err = t.opus.Decode(t.pcm, payload); err != nil {
			t.r.dropped.Add(1)
			return
		}
	default:
		return
	}
	t.r.write(t.ch, t.pcm[:n])
}

// Rate is the destination's rate.
func (t *Tap) Rate() int { return t.dst.Rate() }

// String names the stage, e.g. "record(left) -> gate -> RTP(pt=0)".
func (t *Tap) String() string { return "record(" + t.ch.String() + ") -> " + t.dst.String() }
