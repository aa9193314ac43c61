package rtpep

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// sine returns n samples of a tone of freq Hz and peak amp at rate Hz,
// starting at sample index from.
func sine(rate int, freq, amp float64, from, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(from+i)/float64(rate)))
	}
	return pcm
}

// expectLevel checks the dominant frequency of pcm (8000 Hz) and the
// level of the tone at freq against a sine of peak amp.
func expectLevel(t *testing.T, pcm []int16, freq, amp float64) {
	t.Helper()
	got := audiotest.DominantFrequency(pcm, pcmRate, 200, 3800, 50)
	level := 10 * math.Log10(audiotest.Goertzel(pcm, pcmRate, freq))
	want := 20 * math.Log10(amp/32768)
	t.Logf("dominant %.0f Hz, tone %.1f dBFS (sent %.1f dBFS), %d samples", got, level, want, len(pcm))
	if math.Abs(got-freq) > 25 {
		t.Errorf("dominant frequency %.0f Hz, want %.0f", got, freq)
	}
	if math.Abs(level-want) > 2 {
		t.Errorf("tone level %.1f dBFS, want %.1f ± 2", level, want)
	}
}

// opusPeer is an endpoint (Opus only) that answered a raw peer's offer
// of Opus at PT 96.
func opusPeer(t *testing.T) (*Endpoint, *rawPeer) {
	t.Helper()
	e := newTestEndpoint(t, Config{Codecs: []string{"opus"}})
	peer := newRawPeer(t)
	offer := offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 96", peer.port()), "a=rtpmap:96 opus/48000/2")
	if _, err := e.Answer(context.Background(), offer); err != nil {
		t.Fatal(err)
	}
	return e, peer
}

func TestOpusOffer(t *testing.T) {
	e := newTestEndpoint(t, Config{Codecs: []string{"OPUS", "PCMU"}})
	offer, err := e.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("m=audio %d RTP/AVP 111 0 101 110", e.LocalAddr().Port),
		"a=rtpmap:111 opus/48000/2",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=rtpmap:110 telephone-event/48000",
		"a=fmtp:111 minptime=10;useinbandfec=1",
		"a=fmtp:101 0-16",
		"a=fmtp:110 0-16",
		"a=ptime:20",
		"a=sendrecv",
	}
	lines := strings.Split(strings.TrimSpace(string(offer)), "\r\n")
	if len(lines) < len(want) {
		t.Fatalf("offer:\n%s", offer)
	}
	for i, w := range want {
		if got := lines[len(lines)-len(want)+i]; got != w {
			t.Errorf("line %q, want %q", got, w)
		}
	}
	if e.String() != "RTP(pt=111) -> Opus(decode,8k)" {
		t.Errorf("String() = %q", e.String())
	}
	for _, pt := range []struct {
		pt    uint8
		codec media.Codec
		clock uint32
	}{{111, media.CodecOpus, 48000}, {0, media.CodecPCMU, 8000}, {101, media.CodecNone, 8000}, {110, media.CodecNone, 48000}} {
		if c, te, clock, ok := e.s.Classify(pt.pt); !ok || c != pt.codec || clock != pt.clock || te != (c == media.CodecNone) {
			t.Errorf("PT %d received as %v/%v/%d/%v", pt.pt, c, te, clock, ok)
		}
	}
}

func TestOpusAccept(t *testing.T) {
	ctx := context.Background()
	e := newTestEndpoint(t, Config{Codecs: []string{"opus", "PCMU"}})
	if _, err := e.Offer(ctx); err != nil {
		t.Fatal(err)
	}
	ans := offerSDP("192.0.2.1", "m=audio 4000 RTP/AVP 111 110", "a=rtpmap:111 opus/48000/2", "a=rtpmap:110 telephone-event/48000")
	if err := e.Accept(ctx, ans); err != nil {
		t.Fatal(err)
	}
	if snd := e.s.SendInfo(); e.Codec() != "opus" || snd.PT != 111 || snd.TE != 110 || snd.TEClock != 48000 {
		t.Errorf("codec %s send %+v", e.Codec(), snd)
	}
	if got := e.AudioSink().String(); got != "Opus(encode,8k) -> RTP(pt=111)" {
		t.Errorf("sink String() = %q", got)
	}
	if e.AudioSink().Rate() != 8000 {
		t.Errorf("sink rate %d", e.AudioSink().Rate())
	}
}

// TestOpusReceive: a peer sends a tone as Opus encoded at 48 kHz (FEC
// on) with the 48 kHz RTP clock, two packets in a row lost; the endpoint
// plays it as 8 kHz PCM at the right frequency and level, the first loss
// concealed by PLC, the second recovered from the next packet's FEC when
// that packet is already held at the playout tick (it usually is; under
// scheduling jitter it may not be, and the loss is concealed instead:
// codecs/opus tests FEC decoding itself, media the buffer's Peek).
func TestOpusReceive(t *testing.T) {
	e, peer := opusPeer(t)
	out := audiotest.NewRecorder(8000)
	e.SetAudioOutput(out)
	enc, err := opus.NewEncoder(opus.Config{FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	const frames, lost, freq, amp = 60, 30, 700.0, 8000.0
	buf := make([]byte, opus.MaxPayload)
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	for i := range frames {
		n, err := enc.Encode(buf, sine(48000, freq, amp, i*960, 960))
		if err != nil {
			t.Fatal(err)
		}
		if i != lost && i != lost+1 {
			pkt := rtpPacket(96, uint16(1000+i), uint32(5000+960*i), 0x1234, buf[:n])
			if _, err := peer.conn.WriteToUDPAddrPort(pkt, e.local); err != nil {
				t.Fatal(err)
			}
		}
		<-tk.C
	}
	waitFor(t, time.Second, "opus audio", func() bool { return out.Frames() >= frames-5 })
	pcm := out.PCM()
	expectLevel(t, pcm[10*160:], freq, amp)
	s := e.Stats()
	t.Logf("stats %+v", s)
	if s.Decoded < frames-7 || s.Concealed == 0 || s.Recovered > 1 || s.Concealed+s.Recovered < 2 || s.Stray != 0 || s.Relayed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestOpusSend: what the endpoint sends is Opus at PT 96 with the 48 kHz
// clock, and decodes back to the tone.
func TestOpusSend(t *testing.T) {
	e, peer := opusPeer(t)
	// The endpoint's sink takes Opus payloads as they are (a relay from a
	// browser or another Opus leg), and G.711 ones not.
	ps := e.AudioSink().(media.PayloadSink)
	if !ps.Takes(media.CodecOpus) || ps.Takes(media.CodecPCMU) {
		t.Error("the sink should take Opus payloads only")
	}
	if took, err := ps.WritePayload(media.CodecOpus, []byte{0xfc, 0xff, 0xfe}); !took || err != nil {
		t.Errorf("WritePayload(opus) = %v, %v", took, err)
	}
	if relayed := peer.readRTP(t, time.Second); relayed.PayloadType != 96 || !bytes.Equal(relayed.Payload, []byte{0xfc, 0xff, 0xfe}) {
		t.Errorf("relayed Opus packet: pt %d payload %x", relayed.PayloadType, relayed.Payload)
	}
	const frames, freq, amp = 50, 1200.0, 6000.0
	var wg sync.WaitGroup
	wg.Go(func() { _ = sendTone(context.Background(), e.AudioSink(), freq, amp, frames) })
	defer wg.Wait()
	dec, err := opus.NewDecoder(opus.Config{Rate: 8000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	var hs []rtp.Header
	frame := make([]int16, 960)
	for range frames {
		p := peer.readRTP(t, time.Second)
		if p.PayloadType != 96 || len(p.Payload) == 0 || len(p.Payload) > 200 {
			t.Fatalf("packet pt %d, %d bytes", p.PayloadType, len(p.Payload))
		}
		n, err := dec.Decode(frame, p.Payload)
		if err != nil || n != 160 {
			t.Fatalf("decode: %d samples, %v", n, err)
		}
		pcm = append(pcm, frame[:n]...)
		hs = append(hs, p.Header)
	}
	// 20 ms of the 48 kHz clock per packet; a writer stalled 60 ms or more
	// (a loaded machine) starts a talkspurt: marker, whole frames skipped.
	for i := 1; i < len(hs); i++ {
		if d := hs[i].Timestamp - hs[i-1].Timestamp; d != 960 && (!hs[i].Marker || d%960 != 0 || int32(d) < 0) {
			t.Fatalf("packet %d timestamp step %d (marker %v), want 960", i, d, hs[i].Marker)
		}
	}
	expectLevel(t, pcm[10*160:], freq, amp)
}

// TestOpusEndToEnd: two endpoints agree on Opus; audio and DTMF (as
// telephone-event/48000, PT 110) cross.
func TestOpusEndToEnd(t *testing.T) {
	a := newTestEndpoint(t, Config{Codecs: []string{"opus", "PCMU"}})
	b := newTestEndpoint(t, Config{Codecs: []string{"opus"}})
	connect(t, a, b)
	if a.Codec() != "opus" || b.Codec() != "opus" || a.s.SendInfo().TE != te48PT || b.s.SendInfo().TE != te48PT {
		t.Fatalf("codecs %q %q, te %d %d", a.Codec(), b.Codec(), a.s.SendInfo().TE, b.s.SendInfo().TE)
	}
	out := &capture{}
	b.SetAudioOutput(out)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sendTone(ctx, a.AudioSink(), 500, 8000, 60) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, 2*time.Second, "audio at B", func() bool { f, _ := out.counts(); return f >= 40 })
	expectLevel(t, out.samples()[10*160:], 500, 8000)
	digits := []struct {
		r rune
		d time.Duration
	}{{'9', 120 * time.Millisecond}, {'*', 0}, {'1', 3 * time.Second}}
	for _, d := range digits {
		if err := a.SendDTMF(d.r, d.d); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range digits {
		wd := min(want.d, 0xffff*time.Second/48000) // the 16-bit duration at 48 kHz
		if wd == 0 {
			wd = media.DTMFDefault
		}
		select {
		case ev := <-b.Events():
			if ev.Kind != media.EventDTMF || ev.Digit != want.r {
				t.Fatalf("event %+v, want digit %q", ev, want.r)
			}
			// Ticks of 1/48000 s: the duration comes back to the tick.
			if diff := ev.Duration - wd; diff < -time.Millisecond || diff > time.Millisecond {
				t.Errorf("digit %q duration %v, want %v", ev.Digit, ev.Duration, wd)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no event for %q", want.r)
		}
	}
}

// TestOpusDTMFPacketFormat: with Opus, events go at the 48 kHz clock.
func TestOpusDTMFPacketFormat(t *testing.T) {
	e := newTestEndpoint(t, Config{Codecs: []string{"opus"}})
	peer := newRawPeer(t)
	offer := offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 96 101 97", peer.port()),
		"a=rtpmap:96 opus/48000/2", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:97 telephone-event/48000")
	ans, err := e.Answer(context.Background(), offer)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`m=audio \d+ RTP/AVP 96 97\r\n`).Match(ans) {
		t.Fatalf("answer:\n%s", ans)
	}
	if err := e.SendDTMF('4', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var last media.DTMFEvent
	for n := 0; !last.End; n++ {
		p := peer.readRTP(t, time.Second)
		if last, err = media.ParseDTMF(p.Payload); err != nil || p.PayloadType != 97 || last.Event != 4 {
			t.Fatalf("packet %d: pt %d %+v %v", n, p.PayloadType, last, err)
		}
	}
	if last.Duration != 4800 {
		t.Errorf("final duration %d, want 4800 (100 ms at 48 kHz)", last.Duration)
	}
}
