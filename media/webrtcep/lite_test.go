package webrtcep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// connectedLite is a lite endpoint in a call with a test browser, audio
// flowing both ways (a 1 kHz tone from the browser, 440 Hz from us).
func connectedLite(t *testing.T) (*Endpoint, *browser, *audiotest.Recorder, *audiotest.Recorder) {
	t.Helper()
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	out := audiotest.NewRecorder(48000)
	e.SetAudioOutput(out)
	b.sendTone(ctx, webrtc.MimeTypeOpus, 1000)
	in := b.record(48000)
	stop := feedTone(ctx, e.AudioSink(), 440)
	t.Cleanup(stop)
	waitFor(t, 10*time.Second, "srtp up", e.connected)
	if st := e.Stats(); st.ICEChecks == 0 || st.ICEPeer == "" || !st.DTLSConnected || st.DTLSRole != "client" {
		t.Errorf("connected: checks %d, peer %q, DTLS up %v as %q", st.ICEChecks, st.ICEPeer, st.DTLSConnected, st.DTLSRole)
	}
	expectTone(t, "browser->us", out, 1000)
	expectTone(t, "us->browser", in, 440)
	// In order: the first check, DTLS up, then media both ways (nothing
	// can be sent or received before the keys).
	if st := e.Stats(); st.FirstCheck.IsZero() || st.DTLSConnectedAt.Before(st.FirstCheck) ||
		st.FirstSent.Before(st.DTLSConnectedAt) || st.FirstReceived.Before(st.DTLSConnectedAt) || !st.FailedAt.IsZero() {
		t.Errorf("times: first check %v, DTLS up %v, first RTP sent %v, received %v, failed %v",
			st.FirstCheck, st.DTLSConnectedAt, st.FirstSent, st.FirstReceived, st.FailedAt)
	}
	return e, b, out, in
}

// TestLiteRTCP: the browser's receiver report (SRTCP, rtcp-mux) reaches
// the stream, whose Opus FEC follows the loss it reports, and our sender
// reports reach the browser, which decrypts them.
func TestLiteRTCP(t *testing.T) {
	e, b, _, _ := connectedLite(t)
	rr := &rtcp.ReceiverReport{SSRC: 7, Reports: []rtcp.ReceptionReport{{SSRC: e.s.SSRC(), FractionLost: 64}}}
	waitFor(t, 5*time.Second, "the browser's report of 25% loss (fraction 64/256) applied", func() bool {
		if err := b.pc.WriteRTCP([]rtcp.Packet{rr}); err != nil {
			t.Fatalf("browser WriteRTCP: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
		// The count goes up before the report is applied: wait for both.
		return e.Stats().RTCPReceived > 0 && e.s.PeerLoss() == 25
	})
	waitFor(t, 5*time.Second, "sender report sent", func() bool { return e.Stats().RTCPSent > 0 })
	rcv := b.pc.GetReceivers()[0]
	gotSR := false
	for i := 0; i < 50 && !gotSR; i++ {
		_ = rcv.SetReadDeadline(time.Now().Add(7 * time.Second))
		pkts, _, err := rcv.ReadRTCP()
		if err != nil {
			t.Fatalf("browser ReadRTCP: %v", err)
		}
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok && sr.SSRC == e.s.SSRC() && sr.PacketCount > 0 {
				gotSR = true
			}
		}
	}
	if !gotSR {
		t.Error("the browser read no sender report of ours")
	}
}

// TestLiteBadInput: malformed, unauthenticated and stray datagrams on
// the call's socket are dropped and counted; the call carries on.
func TestLiteBadInput(t *testing.T) {
	e, _, out, _ := connectedLite(t)
	stranger, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	e.lite.mu.Lock()
	local := e.lite.local
	e.lite.mu.Unlock()
	badPwd, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername(local.ufrag+":x"),
		stun.NewShortTermIntegrity("not-the-password-at-all"), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	otherUser, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.NewUsername("nope:x"),
		stun.NewShortTermIntegrity(local.pwd), stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	fakeRTP := append([]byte{0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9}, make([]byte, 60)...)
	fakeRTCP := append([]byte{0x80, 201, 0, 7, 0, 0, 0, 9}, make([]byte, 40)...)
	garbage := [][]byte{
		{0}, {1, 1, 0, 0}, badPwd.Raw, otherUser.Raw, append([]byte{22, 254, 253}, make([]byte, 30)...),
		fakeRTP, fakeRTCP, {200, 1, 2, 3}, {0x7f, 0, 0}, make([]byte, 1400),
	}
	before := e.Stats().Dropped
	to := net.UDPAddrFromAddrPort(e.lite.addr())
	for _, g := range garbage {
		if _, err := stranger.WriteToUDP(g, to); err != nil {
			t.Fatal(err)
		}
	}
	want := before + uint64(len(garbage))
	waitFor(t, 5*time.Second, "garbage counted", func() bool { return e.Stats().Dropped >= want })
	out.Reset()
	expectTone(t, "browser->us after garbage", out, 1000)
}

// TestLiteSetupTimeout: a call whose DTLS does not come up after its
// first ICE check ends (EventTimeout) within the configured bound, reason
// logged; an answer that waits unsent (the callee rings) does not.
func TestLiteSetupTimeout(t *testing.T) {
	for _, tt := range []struct {
		name, why string
		peer      string // what the peer does with our answer
	}{
		{"answer not sent yet", "", "nothing"},
		{"ice but no dtls", "dtls failed", "stun"},
		{"bad fingerprint", "dtls failed", "mangle"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &logBuffer{}
			f, err := NewFactory(Config{IP: testIP, DTLSTimeout: time.Second}, slog.New(slog.NewTextHandler(logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			e := newTestEndpoint(t, f)
			b := newBrowser(t, chromeLike)
			offer := b.offer(nil)
			if tt.peer == "mangle" {
				i := strings.Index(offer, "a=fingerprint:sha-256 ") + len("a=fingerprint:sha-256 ")
				flip := "00"
				if offer[i:i+2] == "00" {
					flip = "FF"
				}
				offer = offer[:i] + flip + offer[i+2:]
			}
			answer, err := e.Answer(context.Background(), []byte(offer))
			if err != nil {
				t.Fatal(err)
			}
			switch tt.peer {
			case "mangle":
				b.accept(answer) // the browser connects; we refuse its certificate
			case "stun": // a peer that checks ICE, then never speaks DTLS
				e.lite.mu.Lock()
				local := e.lite.local
				e.lite.mu.Unlock()
				sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				defer sock.Close()
				check := fuzzCheck(t, local.ufrag+":peer", local.pwd, true)
				if _, err := sock.WriteToUDP(check, net.UDPAddrFromAddrPort(e.lite.addr())); err != nil {
					t.Fatal(err)
				}
			}
			wait := 10 * time.Second // generous for a loaded machine
			if tt.why == "" {
				wait = 4 * time.Second // four times the bound
			}
			start := time.Now()
			select {
			case ev := <-e.Events():
				if tt.why == "" {
					t.Fatalf("event %+v after %s: a call whose answer waits to be sent was ended", ev, time.Since(start))
				}
				if ev.Kind != media.EventTimeout {
					t.Fatalf("event %+v, want timeout", ev)
				}
			case <-time.After(wait):
				if tt.why != "" {
					t.Fatal("no event: the leg would stay up without media")
				}
				if st := e.Stats(); !st.ICEKnown || st.ICEChecks != 0 || st.ICEPeer != "" || st.DTLSConnected || st.DTLSRole != "" {
					t.Errorf("without a check: stats %+v", st)
				}
				return
			}
			if st := e.Stats(); !st.ICEKnown || st.ICEChecks == 0 || !strings.HasPrefix(st.ICEPeer, "127.0.0.1:") || st.DTLSConnected {
				t.Errorf("checked, DTLS failed: ICE known %v, checks %d, peer %q, DTLS up %v", st.ICEKnown, st.ICEChecks, st.ICEPeer, st.DTLSConnected)
			}
			if st := e.Stats(); st.FirstCheck.IsZero() || !st.DTLSConnectedAt.IsZero() || st.FailedAt.Before(st.FirstCheck) ||
				!strings.HasPrefix(st.Failure, "dtls failed") || !st.FirstReceived.IsZero() {
				t.Errorf("checked, DTLS failed: first check %v, DTLS up %v, failed %v (%q), first RTP %v",
					st.FirstCheck, st.DTLSConnectedAt, st.FailedAt, st.Failure, st.FirstReceived)
			}
			t.Logf("ended after %s", time.Since(start).Round(time.Millisecond))
			if !strings.Contains(logs.String(), tt.why) {
				t.Errorf("log lacks %q:\n%s", tt.why, logs.String())
			}
		})
	}
}

// TestLitePortRange: with a range configured, a call binds its port in
// it (the candidate in the SDP), and a full range is a clear error.
func TestLitePortRange(t *testing.T) {
	var f *Factory
	var port int
	var e *Endpoint
	for try := 0; e == nil; try++ { // another process may take the free port found
		if try == 5 {
			t.Fatal("could not bind a free port found 5 times")
		}
		probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port = probe.LocalAddr().(*net.UDPAddr).Port
		_ = probe.Close()
		if f, err = NewFactory(Config{IP: testIP, PortMin: port, PortMax: port}, nil); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Close() })
		e, _ = f.New(context.Background())
	}
	t.Cleanup(func() { _ = e.Close() })
	offer, err := e.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(" %s %d typ host", testIP, port); !strings.Contains(string(offer), want) {
		t.Errorf("offer lacks candidate %q:\n%s", want, offer)
	}
	if _, err := f.New(context.Background()); !errors.Is(err, ErrPortsExhausted) {
		t.Errorf("second call in a one-port range: %v, want ErrPortsExhausted", err)
	}
	if _, err := NewFactory(Config{IP: testIP, PortMin: 20, PortMax: 10}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("inverted range: %v", err)
	}
}

// TestLiteReOfferNewCertificate: a re-offer naming another certificate
// would need a new DTLS session, which the lite engine does not start:
// it is refused as a negotiation failure (a 500 with the reason, the
// call keeps its media), not silently accepted.
func TestLiteReOfferNewCertificate(t *testing.T) {
	e, b, out, _ := connectedLite(t)
	offer := b.offer(nil)
	i := strings.Index(offer, "a=fingerprint:sha-256 ") + len("a=fingerprint:sha-256 ")
	flip := "00"
	if offer[i:i+2] == "00" {
		flip = "FF"
	}
	_, err := e.Answer(context.Background(), []byte(offer[:i]+flip+offer[i+2:]))
	if !errors.Is(err, ErrNegotiation) {
		t.Fatalf("re-offer with another fingerprint: %v, want ErrNegotiation", err)
	}
	out.Reset()
	expectTone(t, "browser->us after the refused re-offer", out, 1000)
}

// TestLiteReleasesDTLS: once the browser's SRTP arrives, the DTLS
// connection is let go (its record reader on our pipe ends) and media
// goes on both ways on the SRTP contexts.
func TestLiteReleasesDTLS(t *testing.T) {
	e, _, out, in := connectedLite(t)
	waitFor(t, 5*time.Second, "dtls released", func() bool {
		return e.lite.released.Load() && audiotest.GoroutinesIn("dtlssrtp.(*Pipe).ReadFrom") == 0
	})
	e.lite.mu.Lock()
	dc := e.lite.dconn
	e.lite.mu.Unlock()
	if dc != nil {
		t.Error("the DTLS connection is still held")
	}
	if st := e.Stats(); !st.DTLSConnected || st.DTLSRole != "client" {
		t.Errorf("after the release: DTLS up %v as %q, want up as client", st.DTLSConnected, st.DTLSRole)
	}
	// Media after the release: fresh audio both ways.
	out.Reset()
	in.Reset()
	expectTone(t, "browser->us after the release", out, 1000)
	expectTone(t, "us->browser after the release", in, 440)
}
