package recording_test

import (
	"math"
	"testing"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/recording"
)

// relaySink takes PCMU and Opus payloads as they are (a leg with the
// same codec as the other side) and counts them.
type relaySink struct {
	*audiotest.Recorder
	payloads int
}

func (s *relaySink) Takes(c media.Codec) bool { return c == media.CodecPCMU || c == media.CodecOpus }
func (s *relaySink) WritePayload(c media.Codec, _ []byte) (bool, error) {
	if !s.Takes(c) {
		return false, nil
	}
	s.payloads++
	return true, nil
}

// A bridge relaying payloads undecoded still records: the tap decodes
// what the destination took (PCMU, Opus) and passes every payload on
// unchanged; a codec the destination refuses is left for the stream to
// decode (and so reaches WriteFrame).
func TestTapDecodesRelayedPayloads(t *testing.T) {
	clk := &fakeClock{}
	r, path := newRecorder(t, clk)
	dstL, dstR := &relaySink{Recorder: audiotest.NewRecorder(8000)}, &relaySink{Recorder: audiotest.NewRecorder(48000)}
	left, right := r.Tap(recording.Left, dstL), r.Tap(recording.Right, dstR)
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000})
	if err != nil {
		t.Fatal(err)
	}
	ulaw, packet := make([]byte, 160), make([]byte, opus.MaxPayload)
	for i := range 100 {
		clk.advance(media.FrameDuration)
		g711.EncodeULaw(ulaw, tone(160, 8000, 1000, 160*i))
		if took, err := left.WritePayload(media.CodecPCMU, ulaw); !took || err != nil {
			t.Fatalf("PCMU payload: %v %v", took, err)
		}
		n, err := enc.Encode(packet, tone(960, 48000, 440, 960*i))
		if err != nil {
			t.Fatal(err)
		}
		if took, err := right.WritePayload(media.CodecOpus, packet[:n]); !took || err != nil {
			t.Fatalf("Opus payload: %v %v", took, err)
		}
	}
	if took, _ := left.WritePayload(media.CodecPCMA, ulaw); took || left.Takes(media.CodecPCMA) {
		t.Error("the tap took PCMA its destination refuses")
	}
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if dstL.payloads != 100 || dstR.payloads != 100 {
		t.Errorf("destinations got %d and %d payloads, want 100", dstL.payloads, dstR.payloads)
	}
	l, rr := channels(t, path)
	if f := dominant(l); math.Abs(f-1000) > 20 {
		t.Errorf("left (relayed PCMU) at %.0f Hz", f)
	}
	if f := dominant(rr[len(rr)/4:]); math.Abs(f-440) > 20 {
		t.Errorf("right (relayed Opus) at %.0f Hz", f)
	}
	if got := left.String(); got != "record(left) -> recorder" {
		t.Errorf("String() = %q", got)
	}
}

// Recording adds no allocation per frame on the media path, decoded,
// resampled or relayed.
func TestTapAllocatesNothingPerFrame(t *testing.T) {
	clk := &fakeClock{}
	r, _ := newRecorder(t, clk)
	defer r.Close()
	narrow := r.Tap(recording.Left, media.NewGate(nil))
	wide := r.Tap(recording.Right, nullSink{rate: 16000})
	f8, f16, ulaw := tone(160, 8000, 1000, 0), tone(320, 16000, 440, 0), make([]byte, 160)
	_ = wide.WriteFrame(f16) // the resampler is built on the first frame
	for name, write := range map[string]func(){
		"8 kHz frame":  func() { _ = narrow.WriteFrame(f8) },
		"16 kHz frame": func() { _ = wide.WriteFrame(f16) },
		"PCMU payload": func() { _, _ = wide.WritePayload(media.CodecPCMU, ulaw) },
	} {
		if n := testing.AllocsPerRun(200, func() { clk.advance(media.FrameDuration); write() }); n != 0 {
			t.Errorf("%s: %.1f allocations per frame", name, n)
		}
	}
}

// nullSink takes frames and PCMU payloads and keeps nothing.
type nullSink struct{ rate int }

func (s nullSink) WriteFrame([]int16) error                           { return nil }
func (s nullSink) Rate() int                                          { return s.rate }
func (s nullSink) String() string                                     { return "null" }
func (s nullSink) Takes(c media.Codec) bool                           { return c == media.CodecPCMU }
func (s nullSink) WritePayload(c media.Codec, _ []byte) (bool, error) { return s.Takes(c), nil }
