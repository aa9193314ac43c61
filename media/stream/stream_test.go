package stream

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// wire is a Transport keeping what is sent: the phone's side of a call.
type wire struct {
	mu       sync.Mutex
	drop     bool // keep nothing
	hdrs     []rtp.Header
	payloads [][]byte
}

func (w *wire) SendRTP(h *rtp.Header, _, payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.drop {
		return nil
	}
	w.hdrs = append(w.hdrs, *h)
	w.payloads = append(w.payloads, append([]byte(nil), payload...))
	return nil
}

func (w *wire) SetReadDeadline(time.Time) error { return nil }

func (w *wire) sent() ([]rtp.Header, [][]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]rtp.Header(nil), w.hdrs...), append([][]byte(nil), w.payloads...)
}

// pcmu decodes what a wire received as PCMU.
func (w *wire) pcmu(t *testing.T) []int16 {
	t.Helper()
	dec, err := g711.NewDecoder(g711.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	_, payloads := w.sent()
	var pcm []int16
	buf := make([]int16, 480)
	for _, p := range payloads {
		n, err := dec.Decode(buf, p)
		if err != nil {
			t.Fatal(err)
		}
		pcm = append(pcm, buf[:n]...)
	}
	return pcm
}

func newStream(t testing.TB, cfg Config, w Transport) *Stream {
	t.Helper()
	s, err := New(cfg, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// transcodedCall is a browser's stream (Opus in at PT 111, decoded at
// 8 kHz) bridged to a phone's (PCMU out), through a gate as b2bua links
// them; phone records what the phone is sent.
func transcodedCall(t testing.TB) (browser *Stream, gate *media.Gate, phone *wire) {
	t.Helper()
	phone = &wire{}
	browser = newStream(t, Config{Name: "SRTP", Rate: 8000}, &wire{})
	var tbl PTTable
	tbl.SetCodec(111, media.CodecOpus)
	browser.SetReceive(tbl)
	ph := newStream(t, Config{Name: "RTP"}, phone)
	ph.SetSend(Send{Codec: media.CodecPCMU, PT: 0, TE: -1})
	gate = media.NewGate(ph.AudioSink())
	browser.SetAudioOutput(gate)
	return browser, gate, phone
}

// opusTone encodes n 20 ms frames of freq Hz at 48 kHz, FEC on, as a
// browser sends them.
func opusTone(t testing.TB, n int, freq float64) [][]byte {
	t.Helper()
	enc, err := opus.NewEncoder(opus.Config{FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 960)
	out := make([][]byte, n)
	for i := range out {
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i*960+j)/48000))
		}
		buf := make([]byte, opus.MaxPayload)
		m, err := enc.Encode(buf, pcm)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = buf[:m]
	}
	return out
}

// deliver hands packet i of pkts to s as the transport's reader does.
func deliver(t *testing.T, s *Stream, pkts [][]byte, i int) {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(60000 + i),
		Timestamp: uint32(i * 960), SSRC: 0xb0b}, Payload: pkts[i]}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var pkt Packet
	if !s.Parse(b, &pkt) {
		t.Fatalf("packet %d refused", i)
	}
	s.Receive(&pkt)
}

// checkContinuous checks the phone got n packets, each 20 ms after the
// last in RTP time and sequence, one talkspurt.
func checkContinuous(t *testing.T, hdrs []rtp.Header, n int) {
	t.Helper()
	if len(hdrs) != n {
		t.Errorf("phone got %d packets, want %d", len(hdrs), n)
	}
	for i := 1; i < len(hdrs); i++ {
		if d := hdrs[i].Timestamp - hdrs[i-1].Timestamp; d != 160 {
			t.Errorf("packet %d: timestamp step %d, want 160", i, d)
		}
		if hdrs[i].SequenceNumber != hdrs[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, hdrs[i].SequenceNumber, hdrs[i-1].SequenceNumber)
		}
		if hdrs[i].Marker {
			t.Errorf("packet %d: marker inside the talkspurt", i)
		}
	}
}

// TestLossAndReorderOnBrowserLeg: the browser's packets arrive with two
// losses and one pair swapped; every frame reaches the
// phone, transcoded when it arrives, the losses concealed (one from the
// next packet's FEC), with no gap in the phone's RTP timestamps.
func TestLossAndReorderOnBrowserLeg(t *testing.T) {
	browser, _, phone := transcodedCall(t)
	const n = 50
	pkts := opusTone(t, n, 1000)
	order := make([]int, 0, n)
	for i := range n {
		switch i {
		case 10, 30: // lost
		case 20:
			order = append(order, 21, 20) // swapped
		case 21:
		default:
			order = append(order, i)
		}
	}
	// Delivered back to back: the losses are declared when the reorder
	// window fills, which needs no clock (TestGapWaitsThenConceals covers
	// the wait), and no pause in arrivals looks like a new talkspurt.
	for _, i := range order {
		deliver(t, browser, pkts, i)
	}
	hdrs, _ := phone.sent()
	checkContinuous(t, hdrs, n)
	st := browser.Stats()
	t.Logf("browser stream: %+v", st)
	if st.Decoded != n-2 || st.Concealed+st.Recovered != 2 || st.Recovered == 0 || st.Jitter.Late != 0 {
		t.Errorf("decoded %d, concealed %d, recovered %d, late %d; want %d, 2 in all with FEC, 0",
			st.Decoded, st.Concealed, st.Recovered, st.Jitter.Late, n-2)
	}
	pcm := phone.pcmu(t)
	if f := audiotest.DominantFrequency(pcm[10*160:], 8000, 300, 3000, 10); math.Abs(f-1000) > 20 {
		t.Errorf("phone hears %.0f Hz, want 1000", f)
	}
}

// TestGapWaitsThenConceals: a lost packet with one later packet held and
// no more coming is concealed after GapWait by Wake (the reader's read
// deadline), not left waiting for the window to fill.
func TestGapWaitsThenConceals(t *testing.T) {
	browser, _, phone := transcodedCall(t)
	pkts := opusTone(t, 3, 1000)
	deliver(t, browser, pkts, 0)
	deliver(t, browser, pkts, 2) // 1 lost; 2 waits
	if hdrs, _ := phone.sent(); len(hdrs) != 1 {
		t.Fatalf("phone got %d packets before the gap's wait, want 1", len(hdrs))
	}
	time.Sleep(DefaultGapWait + 5*time.Millisecond)
	browser.Wake()
	hdrs, _ := phone.sent()
	checkContinuous(t, hdrs, 3)
	if st := browser.Stats(); st.Recovered != 1 {
		t.Errorf("recovered %d, want 1 (FEC of the held packet)", st.Recovered)
	}
}

// TestPromptMidCall: a prompt plays to the phone in the middle of a
// transcoded call, replacing the browser's audio, and the call resumes:
// the phone hears tone, prompt, tone, in one continuous RTP stream.
func TestPromptMidCall(t *testing.T) {
	browser, gate, phone := transcodedCall(t)
	const before, during, after = 25, 25, 25
	pkts := opusTone(t, before+during+after, 1000)
	prompt := &sounds.Prompt{Name: "beep", Rate: 8000, PCM: make([]int16, during*160)}
	for i := range prompt.PCM {
		prompt.PCM[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	for i := range before {
		deliver(t, browser, pkts, i)
		<-tk.C
	}
	// The prompt holds the gate while the browser keeps talking.
	release := gate.Hold()
	done := make(chan error, 1)
	go func() { done <- media.Play(context.Background(), prompt, gate.Override()) }()
	for i := before; i < before+during; i++ {
		deliver(t, browser, pkts, i)
		<-tk.C
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	release()
	for i := before + during; i < len(pkts); i++ {
		deliver(t, browser, pkts, i)
		<-tk.C
	}
	hdrs, _ := phone.sent()
	// One stream: sequence numbers without a hole, timestamps that never
	// go back and cover at least every frame sent.
	for i := 1; i < len(hdrs); i++ {
		if hdrs[i].SequenceNumber != hdrs[i-1].SequenceNumber+1 || int32(hdrs[i].Timestamp-hdrs[i-1].Timestamp) < 160 {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, hdrs[i].SequenceNumber, hdrs[i].Timestamp,
				hdrs[i-1].SequenceNumber, hdrs[i-1].Timestamp)
		}
	}
	pcm := phone.pcmu(t)
	if len(pcm) < (before+during+after-6)*160 {
		t.Fatalf("phone got %d samples", len(pcm))
	}
	third := len(pcm) / 3
	for _, part := range []struct {
		name string
		pcm  []int16
		want float64
	}{
		{"before", pcm[5*160 : third-5*160], 1000},
		{"prompt", pcm[third+5*160 : 2*third-5*160], 440},
		{"after", pcm[2*third+5*160:], 1000},
	} {
		if f := audiotest.DominantFrequency(part.pcm, 8000, 300, 3000, 10); math.Abs(f-part.want) > 20 {
			t.Errorf("%s the prompt the phone hears %.0f Hz, want %.0f", part.name, f, part.want)
		}
	}
}

// TestNoAllocsOnArrival: a transcoded frame (Opus in, decoded, PCMU out)
// allocates nothing.
func TestNoAllocsOnArrival(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	browser, _, phone := transcodedCall(t)
	phone.mu.Lock()
	phone.drop = true
	phone.mu.Unlock()
	pkts := opusTone(t, 50, 1000)
	var pkt Packet
	raw := make([][]byte, 50)
	for k := range raw {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}, Payload: pkts[k]}
		raw[k], _ = p.Marshal()
	}
	var seq uint16
	run := func() {
		b := raw[seq%50]
		b[2], b[3] = byte(seq>>8), byte(seq)
		seq++
		if browser.Parse(b, &pkt) {
			browser.Receive(&pkt)
		}
	}
	for range 5 {
		run()
	}
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("transcoded frame: %v allocs", n)
	}
	if st := browser.Stats(); st.Decoded < 200 || st.OutputErrors != 0 {
		t.Errorf("decoded %d, output errors %d", st.Decoded, st.OutputErrors)
	}
}

// BenchmarkTranscodeOnArrival is one 20 ms frame of a transcoded call in
// each direction through the engine, packet in to packet out, without
// sockets: browser -> phone (parse, Opus decode at 8 kHz, gate, PCMU
// encode, RTP) and phone -> browser (parse, PCMU decode, gate, Opus
// encode at 8 kHz with FEC, RTP).
func BenchmarkTranscodeOnArrival(b *testing.B) {
	t := b
	browser, _, phone := transcodedCall(t)
	phone.drop = true
	pkts := opusTone(t, 50, 1000)
	// The phone's side: PCMU in, Opus out to a browser's wire.
	toBrowser := &wire{drop: true}
	br := newStream(t, Config{Name: "SRTP", Rate: 8000}, toBrowser)
	br.SetSend(Send{Codec: media.CodecOpus, PT: 111, TE: -1})
	ph := newStream(t, Config{Name: "RTP"}, &wire{drop: true})
	var tbl PTTable
	tbl.SetCodec(0, media.CodecPCMU)
	ph.SetReceive(tbl)
	ph.SetAudioOutput(media.NewGate(br.AudioSink()))
	enc, _ := g711.NewEncoder(g711.PCMU)
	pcm := make([]int16, 160)
	tone(pcm)
	ulaw := make([]byte, 160)
	_, _ = enc.Encode(ulaw, pcm)
	in := make([][]byte, 50)
	for k := range in {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 1}, Payload: pkts[k]}
		in[k], _ = p.Marshal()
	}
	pu := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 2}, Payload: ulaw}
	fromPhone, _ := pu.Marshal()
	var pkt Packet
	var seq uint16
	b.ReportAllocs()
	for b.Loop() {
		p := in[seq%50]
		p[2], p[3] = byte(seq>>8), byte(seq)
		fromPhone[2], fromPhone[3] = byte(seq>>8), byte(seq)
		seq++
		if browser.Parse(p, &pkt) {
			browser.Receive(&pkt)
		}
		if ph.Parse(fromPhone, &pkt) {
			ph.Receive(&pkt)
		}
	}
	if st := ph.Stats(); st.Decoded == 0 || br.Stats().PacketsSent == 0 {
		b.Fatalf("nothing transcoded: %+v", st)
	}
}

// tone fills pcm with a 1 kHz tone at 8 kHz.
func tone(pcm []int16) {
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
}
