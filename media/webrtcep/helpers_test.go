package webrtcep

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

const testIP = "127.0.0.1"

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestFactory makes a factory of the default (lite) engine on loopback.
func newTestFactory(t testing.TB) (*Factory, *logBuffer) {
	t.Helper()
	return newEngineFactory(t, "")
}

// newEngineFactory makes a factory of the engine on loopback, with an
// OS-chosen port for the PeerConnection engine.
func newEngineFactory(t testing.TB, engine string) (*Factory, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	f, err := NewFactory(Config{IP: testIP, Engine: engine}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatalf("NewFactory: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, logs
}

func newTestEndpoint(t testing.TB, f *Factory) *Endpoint {
	t.Helper()
	e, err := f.New(context.Background())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// browserCodecs is what the test browser registers.
type browserCodecs int

const (
	chromeLike browserCodecs = iota // opus 111, PCMU 0, PCMA 8, te 110 and 126
	pcmuOnly                        // PCMU 0, te 126
	pcmuFirst                       // PCMU 0 listed before opus 111
)

// browser is a full-ICE pion PeerConnection standing in for a browser. It
// sends what the test writes with any payload type (rawTrack) and decodes
// what it receives into rec (48 kHz for Opus, 8 kHz for G.711).
type browser struct {
	t     testing.TB
	pc    *webrtc.PeerConnection
	track *rawTrack
	rec   atomic.Pointer[audiotest.Recorder]
	got   atomic.Int64    // RTP packets received
	te    atomic.Int64    // telephone-event packets received
	pkts  chan rtp.Packet // every packet received, while there is room (the conformance peer reads them)
	wg    sync.WaitGroup
}

func newBrowser(t testing.TB, cs browserCodecs) *browser {
	t.Helper()
	me := &webrtc.MediaEngine{}
	opusC := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	pcmu := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0}
	pcma := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8}
	te48 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: teMime, ClockRate: 48000, SDPFmtpLine: "0-16"}, PayloadType: 110}
	te8 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: teMime, ClockRate: 8000, SDPFmtpLine: "0-16"}, PayloadType: 126}
	list := []webrtc.RTPCodecParameters{opusC, pcmu, pcma, te48, te8}
	switch cs {
	case pcmuOnly:
		list = []webrtc.RTPCodecParameters{pcmu, te8}
	case pcmuFirst:
		list = []webrtc.RTPCodecParameters{pcmu, opusC, te8}
	}
	for _, c := range list {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, pc: pc, track: &rawTrack{}, pkts: make(chan rtp.Packet, 512)}
	if _, err := pc.AddTransceiverFromTrack(b.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		b.wg.Add(1)
		go b.receive(tr)
	})
	t.Cleanup(b.close)
	return b
}

func (b *browser) close() {
	_ = b.pc.Close()
	b.wg.Wait()
}

// receive decodes every audio packet by its own payload type.
func (b *browser) receive(tr *webrtc.TrackRemote) {
	defer b.wg.Done()
	dec, _ := opus.NewDecoder(opus.Config{Rate: 48000})
	pcmu, _ := g711.NewDecoder(g711.PCMU)
	buf := make([]byte, 1500)
	pcm := make([]int16, 5760)
	var p rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		b.got.Add(1)
		select {
		case b.pkts <- rtp.Packet{Header: p.Header.Clone(), Payload: append([]byte(nil), p.Payload...)}:
		default:
		}
		rec := b.rec.Load()
		var m int
		switch p.PayloadType {
		case 111:
			m, err = dec.Decode(pcm, p.Payload)
			if rec == nil || rec.Rate() != 48000 {
				continue
			}
		case 0:
			m, err = pcmu.Decode(pcm, p.Payload)
			if rec == nil || rec.Rate() != 8000 {
				continue
			}
		case 110, 126:
			b.te.Add(1)
			continue
		default:
			continue
		}
		if err == nil {
			_ = rec.WriteFrame(pcm[:m])
		}
	}
}

// record starts recording received audio at rate.
func (b *browser) record(rate int) *audiotest.Recorder {
	r := audiotest.NewRecorder(rate)
	b.rec.Store(r)
	return r
}

// offer creates the browser's non-trickle offer.
func (b *browser) offer(opts *webrtc.OfferOptions) string {
	b.t.Helper()
	o, err := b.pc.CreateOffer(opts)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.setLocal(o)
}

func (b *browser) answer(offer []byte) string {
	b.t.Helper()
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		b.t.Fatal(err)
	}
	a, err := b.pc.CreateAnswer(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.setLocal(a)
}

func (b *browser) setLocal(d webrtc.SessionDescription) string {
	b.t.Helper()
	done := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(d); err != nil {
		b.t.Fatal(err)
	}
	<-done
	return b.pc.LocalDescription().SDP
}

func (b *browser) accept(answer []byte) {
	b.t.Helper()
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		b.t.Fatal(err)
	}
}

// browserCalls: the browser offers, our endpoint answers.
func browserCalls(t testing.TB, b *browser, e *Endpoint) string {
	t.Helper()
	answer, err := e.Answer(context.Background(), []byte(b.offer(nil)))
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	b.accept(answer)
	return string(answer)
}

// weCall: our endpoint offers, the browser answers.
func weCall(t testing.TB, b *browser, e *Endpoint) string {
	t.Helper()
	offer, err := e.Offer(context.Background())
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	if err := e.Accept(context.Background(), []byte(b.answer(offer))); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return string(offer)
}

// rawTrack is a TrackLocal that writes packets with any payload type in
// one sequence space.
type rawTrack struct {
	mu     sync.Mutex
	w      webrtc.TrackLocalWriter
	ssrc   uint32
	seq    uint16 // one sequence space for audio and events, as a browser has
	codecs []webrtc.RTPCodecParameters
}

func (r *rawTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w, r.ssrc, r.codecs = ctx.WriteStream(), uint32(ctx.SSRC()), ctx.CodecParameters()
	return r.codecs[0], nil
}

func (r *rawTrack) Unbind(webrtc.TrackLocalContext) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w = nil
	return nil
}

func (r *rawTrack) ID() string                { return "mic" }
func (r *rawTrack) RID() string               { return "" }
func (r *rawTrack) StreamID() string          { return "browser" }
func (r *rawTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// pt returns the negotiated payload type of mime at clock, or -1.
func (r *rawTrack) pt(mime string, clock uint32) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.codecs {
		if strings.EqualFold(c.MimeType, mime) && c.ClockRate == clock {
			return int(c.PayloadType)
		}
	}
	return -1
}

func (r *rawTrack) write(h *rtp.Header, payload []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return false
	}
	h.Version, h.SSRC, h.SequenceNumber = 2, r.ssrc, r.seq
	r.seq++
	_, err := r.w.WriteRTP(h, payload)
	return err == nil
}

// waitBound waits until pion bound the browser's track.
func (b *browser) waitBound(t testing.TB) {
	t.Helper()
	waitFor(t, 5*time.Second, "browser track bound", func() bool {
		b.track.mu.Lock()
		defer b.track.mu.Unlock()
		return b.track.w != nil
	})
}

// sendTone sends a freq Hz tone from the browser in codec mime (Opus at
// 48 kHz or PCMU) every 20 ms until ctx ends.
func (b *browser) sendTone(ctx context.Context, mime string, freq float64) {
	b.t.Helper()
	b.waitBound(b.t)
	rate, clock := 48000, uint32(48000)
	if mime != webrtc.MimeTypeOpus {
		rate, clock = 8000, 8000
	}
	pt := b.track.pt(mime, clock)
	if pt < 0 {
		b.t.Fatalf("browser: %s not negotiated", mime)
	}
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000, FEC: true})
	if err != nil {
		b.t.Fatal(err)
	}
	pcmu, _ := g711.NewEncoder(g711.PCMU)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		tk := time.NewTicker(media.FrameDuration)
		defer tk.Stop()
		pcm := make([]int16, rate/50)
		buf := make([]byte, 1500)
		h := rtp.Header{PayloadType: uint8(pt), Marker: true}
		n := 0
		for {
			for i := range pcm {
				pcm[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(n)/float64(rate)))
				n++
			}
			var m int
			if mime == webrtc.MimeTypeOpus {
				m, _ = enc.Encode(buf, pcm)
			} else {
				m, _ = pcmu.Encode(buf, pcm)
			}
			if b.track.write(&h, buf[:m]) {
				h.Marker = false
			}
			h.Timestamp += clock / 50
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
}

// feedTone writes a freq Hz tone into sink at its rate every 20 ms until
// ctx ends or the returned stop func is called (which waits for it).
func feedTone(ctx context.Context, sink media.Sink, freq float64) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(media.FrameDuration)
		defer tk.Stop()
		n := 0
		for {
			rate := sink.Rate()
			pcm := make([]int16, rate/50)
			for i := range pcm {
				pcm[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(n)/float64(rate)))
				n++
			}
			_ = sink.WriteFrame(pcm)
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// expectTone waits for a second of audio after a short skip and checks
// that its dominant frequency is freq ± 10 Hz.
func expectTone(t *testing.T, what string, rec *audiotest.Recorder, freq float64) {
	t.Helper()
	rate := rec.Rate()
	skip, need := rate/5, rate // 200 ms start-up, then 1 s
	waitFor(t, 10*time.Second, what+" audio", func() bool { return len(rec.PCM()) >= skip+need })
	pcm := rec.PCM()[skip:]
	got := audiotest.DominantFrequency(pcm, rate, 100, 3900, 5)
	level := audiotest.RMSdBFS(pcm)
	t.Logf("%s: %d Hz, %.0f Hz dominant (want %.0f), %.1f dBFS, %d samples", what, rate, got, freq, level, len(pcm))
	if math.Abs(got-freq) > 10 {
		t.Errorf("%s: dominant %.0f Hz, want %.0f ± 10", what, got, freq)
	}
	if level < -30 {
		t.Errorf("%s: level %.1f dBFS, want a tone about -15 dBFS", what, level)
	}
}
