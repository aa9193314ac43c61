package webrtcep

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// twoWay checks audio both ways on a connected pair: the browser's
// 1000 Hz tone reaches our output at our rate, our 440 Hz tone reaches
// the browser.
func twoWay(t *testing.T, b *browser, e *Endpoint, mime string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rate := e.AudioSink().Rate()
	out := audiotest.NewRecorder(rate)
	e.SetAudioOutput(out)
	b.sendTone(ctx, mime, 1000)
	browserRate := 48000
	if mime != webrtc.MimeTypeOpus {
		browserRate = 8000
	}
	in := b.record(browserRate)
	stop := feedTone(ctx, e.AudioSink(), 440)
	defer stop()
	expectTone(t, fmt.Sprintf("browser->us %s", e), out, 1000)
	expectTone(t, fmt.Sprintf("us->browser %s", e.AudioSink()), in, 440)
}

func TestAudio(t *testing.T) {
	f, _ := newTestFactory(t)
	tests := []struct {
		name    string
		codecs  browserCodecs
		weOffer bool
		rate    int
		mime    string
		codec   string
		str     string
	}{
		{"browser offers opus 48k", chromeLike, false, 48000, webrtc.MimeTypeOpus, CodecOpus, "SRTP(pt=111) -> Opus(decode,48k)"},
		{"browser offers opus 8k", chromeLike, false, 8000, webrtc.MimeTypeOpus, CodecOpus, "SRTP(pt=111) -> Opus(decode,8k)"},
		{"we offer opus 48k", chromeLike, true, 48000, webrtc.MimeTypeOpus, CodecOpus, "SRTP(pt=111) -> Opus(decode,48k)"},
		{"we offer opus 8k", chromeLike, true, 8000, webrtc.MimeTypeOpus, CodecOpus, "SRTP(pt=111) -> Opus(decode,8k)"},
		{"browser offers pcmu only", pcmuOnly, false, 48000, webrtc.MimeTypePCMU, CodecPCMU, "SRTP(pt=0) -> PCMU(decode)"},
		{"we offer, browser has pcmu only", pcmuOnly, true, 48000, webrtc.MimeTypePCMU, CodecPCMU, "SRTP(pt=0) -> PCMU(decode)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEndpoint(t, f)
			if err := e.SetRate(tt.rate); err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t, tt.codecs)
			if tt.weOffer {
				weCall(t, b, e)
			} else {
				browserCalls(t, b, e)
			}
			if got := e.Codec(); got != tt.codec {
				t.Errorf("Codec() = %q, want %q", got, tt.codec)
			}
			if got := e.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			wantRate := tt.rate
			if tt.codec != CodecOpus {
				wantRate = 8000
			}
			if got := e.AudioSink().Rate(); got != wantRate {
				t.Errorf("AudioSink().Rate() = %d, want %d", got, wantRate)
			}
			twoWay(t, b, e, tt.mime)
			s := e.Stats()
			t.Logf("stats: sent %d, received %d, decoded %d, concealed %d, fec %d, rtcp %d",
				s.PacketsSent, s.PacketsReceived, s.Decoded, s.Concealed, s.Recovered, s.RTCPReceived)
		})
	}
}

func TestSDP(t *testing.T) {
	f, _ := newTestFactory(t)
	// The lite engine binds a port per call: the candidate is its port.
	cand := func(e *Endpoint) (*regexp.Regexp, int) {
		port := int(e.lite.addr().Port())
		return regexp.MustCompile(fmt.Sprintf(`(?m)^a=candidate:\S+ 1 udp \d+ %s %d typ host`, regexp.QuoteMeta(testIP), port)), port
	}

	t.Run("answer", func(t *testing.T) {
		e := newTestEndpoint(t, f)
		b := newBrowser(t, chromeLike)
		answer := browserCalls(t, b, e)
		for _, want := range []string{"a=ice-lite", "a=setup:active", "a=rtcp-mux", "a=mid:0", "a=group:BUNDLE 0",
			"UDP/TLS/RTP/SAVPF", "a=fingerprint:sha-256 ", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1",
			"a=rtpmap:126 telephone-event/8000", "a=end-of-candidates", "a=sendrecv"} {
			if !strings.Contains(answer, want) {
				t.Errorf("answer lacks %q", want)
			}
		}
		if cand, port := cand(e); !cand.MatchString(answer) {
			t.Errorf("answer has no host candidate on %s:%d", testIP, port)
		}
		if !regexp.MustCompile(`(?m)^m=audio 9 UDP/TLS/RTP/SAVPF 111 `).MatchString(answer) {
			t.Errorf("answer does not list opus first:\n%s", answer)
		}
		if t.Failed() {
			t.Logf("answer:\n%s", answer)
		}
	})
	t.Run("offer", func(t *testing.T) {
		e := newTestEndpoint(t, f)
		offer, err := e.Offer(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"a=ice-lite", "a=setup:actpass", "a=rtcp-mux", "a=group:BUNDLE", "UDP/TLS/RTP/SAVPF",
			"a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
			"a=rtpmap:110 telephone-event/48000", "a=rtpmap:126 telephone-event/8000", "a=fmtp:126 0-16"} {
			if !strings.Contains(string(offer), want) {
				t.Errorf("offer lacks %q", want)
			}
		}
		if cand, port := cand(e); !cand.Match(offer) {
			t.Errorf("offer has no host candidate on %s:%d", testIP, port)
		}
		if !regexp.MustCompile(`(?m)^m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126`).Match(offer) {
			t.Errorf("offer codec order")
		}
		if t.Failed() {
			t.Logf("offer:\n%s", offer)
		}
	})
	t.Run("opus chosen when offered after pcmu", func(t *testing.T) {
		e := newTestEndpoint(t, f)
		b := newBrowser(t, pcmuFirst)
		answer := browserCalls(t, b, e)
		if e.Codec() != CodecOpus {
			t.Errorf("Codec() = %q, want opus", e.Codec())
		}
		if !regexp.MustCompile(`(?m)^m=audio 9 UDP/TLS/RTP/SAVPF 111 `).MatchString(answer) {
			t.Errorf("answer does not list opus first:\n%s", answer)
		}
	})
	t.Run("bad offer", func(t *testing.T) {
		e := newTestEndpoint(t, f)
		if _, err := e.Answer(context.Background(), []byte("v=0\r\nnot sdp")); err == nil {
			t.Error("Answer accepted garbage")
		}
		if err := e.Accept(context.Background(), []byte("v=0")); err == nil {
			t.Error("Accept without offer succeeded")
		}
	})
}

func TestDTMFFromBrowser(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.SetAudioOutput(audiotest.NewRecorder(48000))
	b.sendTone(ctx, webrtc.MimeTypeOpus, 1000) // audio in parallel, like a browser
	waitFor(t, 5*time.Second, "audio", func() bool { return e.Stats().Decoded > 5 })

	// Digit 5, 100 ms, on PT 126 (8000 Hz) as Chromium sends it.
	h := rtp.Header{PayloadType: 126, Timestamp: 123456, Marker: true}
	var pl [4]byte
	send := func(ev media.DTMFEvent) {
		ev.Marshal(pl[:])
		b.track.write(&h, pl[:])
		h.Marker = false
	}
	for d := uint16(160); d <= 800; d += 160 {
		send(media.DTMFEvent{Event: 5, Volume: 10, Duration: d})
		time.Sleep(20 * time.Millisecond)
	}
	for range 3 {
		send(media.DTMFEvent{Event: 5, End: true, Volume: 10, Duration: 800})
	}
	select {
	case ev := <-e.Events():
		if ev.Kind != media.EventDTMF || ev.Digit != '5' || ev.Duration != 100*time.Millisecond {
			t.Fatalf("event %+v, want DTMF '5' 100ms", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no dtmf event")
	}
	select {
	case ev := <-e.Events():
		t.Fatalf("second event %+v", ev)
	case <-time.After(1200 * time.Millisecond):
	}
}

func TestDTMFToBrowser(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	if err := e.SendDTMF('x', 0); err == nil {
		t.Error("SendDTMF('x') succeeded")
	}
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	waitFor(t, 5*time.Second, "connected", e.connected)
	if err := e.SendDTMF('7', 60*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "dtmf sent", func() bool { return e.Stats().DTMFSent == 1 })
	// 60 ms: updates at 0 and 50 ms, then three end packets.
	waitFor(t, 2*time.Second, "telephone-event packets at the browser", func() bool { return b.te.Load() == 5 })
}

func TestFingerprintMismatch(t *testing.T) {
	f, logs := newTestFactory(t)
	e := newTestEndpoint(t, f)
	b := newBrowser(t, chromeLike)
	offer := b.offer(nil)
	re := regexp.MustCompile(`a=fingerprint:sha-256 ([0-9A-F]{2})`)
	m := re.FindStringSubmatch(offer)
	if m == nil {
		t.Fatalf("no fingerprint in the offer:\n%s", offer)
	}
	flip := "00"
	if m[1] == "00" {
		flip = "FF"
	}
	mangled := strings.Replace(offer, m[0], "a=fingerprint:sha-256 "+flip, 1)
	answer, err := e.Answer(context.Background(), []byte(mangled))
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	b.accept(answer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := audiotest.NewRecorder(48000)
	e.SetAudioOutput(out)
	b.sendTone(ctx, webrtc.MimeTypeOpus, 1000)
	waitFor(t, 10*time.Second, "dtls failure log", func() bool { return strings.Contains(logs.String(), "dtls failed") })
	time.Sleep(time.Second)
	if n := out.Frames(); n != 0 {
		t.Errorf("output got %d frames despite the bad fingerprint", n)
	}
	if s := e.Stats(); s.PacketsReceived != 0 {
		t.Errorf("received %d packets", s.PacketsReceived)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "fingerprint") {
			t.Logf("log: %s", line)
		}
	}
}

func TestReOffer(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	if err := e.SetRate(8000); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := audiotest.NewRecorder(8000)
	e.SetAudioOutput(out)
	b.sendTone(ctx, webrtc.MimeTypeOpus, 1000)
	in := b.record(48000)
	stop := feedTone(ctx, e.AudioSink(), 440)
	defer stop()
	expectTone(t, "before re-offer", out, 1000)
	pc, lite := e.pc, e.lite

	for _, restart := range []bool{false, true} {
		answer, err := e.Answer(context.Background(), []byte(b.offer(&webrtc.OfferOptions{ICERestart: restart})))
		if err != nil {
			t.Fatalf("re-offer (ice restart %v): %v", restart, err)
		}
		b.accept(answer)
		if e.pc != pc || e.lite != lite {
			t.Fatal("a new PeerConnection or socket")
		}
		out.Reset()
		in.Reset()
		expectTone(t, fmt.Sprintf("browser->us after re-offer (ice restart %v)", restart), out, 1000)
		expectTone(t, fmt.Sprintf("us->browser after re-offer (ice restart %v)", restart), in, 440)
	}
}

func TestRTPTimeout(t *testing.T) {
	f, err := NewFactory(Config{IP: testIP, RTPTimeout: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := newTestEndpoint(t, f)
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	ctx, cancel := context.WithCancel(context.Background())
	b.sendTone(ctx, webrtc.MimeTypeOpus, 1000)
	waitFor(t, 5*time.Second, "audio", func() bool { return e.Stats().PacketsReceived > 5 })
	cancel()
	select {
	case ev := <-e.Events():
		if ev.Kind != media.EventTimeout {
			t.Fatalf("event %+v, want timeout", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no timeout event")
	}
	select {
	case ev := <-e.Events():
		t.Fatalf("second event %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	f, _ := newTestFactory(t)
	before := runtime.NumGoroutine()
	func() {
		e, err := f.New(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, chromeLike)
		browserCalls(t, b, e)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := audiotest.NewRecorder(48000)
		e.SetAudioOutput(out)
		b.sendTone(ctx, webrtc.MimeTypeOpus, 1000)
		stop := feedTone(ctx, e.AudioSink(), 440)
		waitFor(t, 5*time.Second, "audio", func() bool { return out.Frames() > 10 })
		cancel()
		stop()
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, ok := <-e.Events(); ok {
			t.Error("Events not closed")
		}
		b.close()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{{}, {IP: "0.0.0.0"}, {IP: "::1"}, {IP: testIP, Port: -1}} {
		if f, err := NewFactory(cfg, nil); err == nil {
			_ = f.Close()
			t.Errorf("NewFactory(%+v) succeeded", cfg)
		}
	}
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	if err := e.SetRate(44100); err == nil {
		t.Error("SetRate(44100) succeeded")
	}
	if e.Codec() != "" || e.String() != "SRTP(unnegotiated)" {
		t.Errorf("before negotiation: Codec %q, String %q", e.Codec(), e.String())
	}
}

func TestHold(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	waitFor(t, 5*time.Second, "connected", e.connected)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := feedTone(ctx, e.AudioSink(), 440)
	defer stop()

	hold := strings.Replace(b.offer(nil), "a=sendrecv", "a=sendonly", 1)
	answer, err := e.Answer(ctx, []byte(hold))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(answer), "a=recvonly") {
		t.Fatalf("hold answer is not recvonly:\n%s", answer)
	}
	b.accept(answer)
	dropped := e.Stats().FramesDropped
	waitFor(t, 2*time.Second, "frames dropped on hold", func() bool { return e.Stats().FramesDropped > dropped+5 })

	answer, err = e.Answer(ctx, []byte(b.offer(nil))) // resume
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(answer), "a=sendrecv") {
		t.Fatalf("resume answer is not sendrecv:\n%s", answer)
	}
	b.accept(answer)
	in := b.record(48000)
	expectTone(t, "us->browser after resume", in, 440)
}
