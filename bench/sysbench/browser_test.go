package main

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/softswitch/softswitch/codecs/opus"
)

// liteAnswerer is a pion PeerConnection set up as the softswitch's browser
// endpoint is (ICE-lite, one loopback candidate, DTLS active as answerer),
// counting the Opus packets it receives and sending some back.
func liteAnswerer(t *testing.T, got *atomic.Int64) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticSample) {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetLite(true)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "server")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for i := 0; i < 100000; i++ {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			got.Add(1)
		}
	})
	return pc, track
}

// The emulated browser (ICE controlling, DTLS server, SRTP by hand) gets a
// call up with a pion ICE-lite answerer and media flows both ways.
func TestBrowserAgainstPion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var atServer atomic.Int64
	pc, track := liteAnswerer(t, &atServer)
	defer pc.Close()
	cert, err := newCertificate()
	if err != nil {
		t.Fatal(err)
	}
	packets, err := opusCycle()
	if err != nil {
		t.Fatal(err)
	}
	poll, err := newPoller()
	if err != nil {
		t.Fatal(err)
	}
	defer poll.close()
	pc2 := newPacer(poll) // drains the poller each millisecond
	defer pc2.close()
	var out, in counters
	b, err := newBrowser(poll, cert, packets, &out, &in)
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	offer, err := b.offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		t.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := b.accept(ctx, []byte(pc.LocalDescription().SDP)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && (atServer.Load() < 10 || in.recv.Load() < 10); i++ {
		b.sendFrame()
		if err := track.WriteSample(media.Sample{Data: packets[i%len(packets)], Duration: frameDur}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(frameDur)
	}
	if n := atServer.Load(); n < 10 {
		t.Fatalf("the answerer received %d packets of %d sent", n, out.sent.Load())
	}
	if n := in.recv.Load(); n < 10 {
		t.Fatalf("the browser received %d packets", n)
	}
	// Sending allocates nothing (the 125th frame's keep-alive aside).
	// AllocsPerRun counts every goroutine's allocations, and pion's
	// receiving side allocates per packet (on a loaded machine it runs
	// inside the measured window), so the measured frames go to a socket
	// nobody reads.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	b.remote = newSockaddr4(sink.LocalAddr().(*net.UDPAddr).AddrPort())
	b.ctr = 1
	if a := testing.AllocsPerRun(100, b.sendFrame); a != 0 {
		t.Errorf("sendFrame: %.1f allocations per packet", a)
	}
}

// Receiving (SRTP decrypt, Opus decode, onset detection) allocates nothing.
func TestBrowserReceiveAllocs(t *testing.T) {
	key, salt := make([]byte, 16), make([]byte, 12)
	tx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	packets, err := opusCycle()
	if err != nil {
		t.Fatal(err)
	}
	plain := append([]byte{0x80, 111, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4}, packets[20]...)
	pkt, err := tx.EncryptRTP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	var in counters
	var peer atomic.Int64
	b := &browser{in: &in, peerBurst: &peer}
	b.rx.Store(rx)
	if b.dec, err = opus.NewDecoder(opus.Config{Rate: 8000}); err != nil {
		t.Fatal(err)
	}
	buf, pcm := make([]byte, 1500), make([]int16, 160)
	var hdr rtp.Header
	var o onset
	a := testing.AllocsPerRun(100, func() { b.receiveRTP(pkt, time.Now().UnixNano(), buf, pcm, &hdr, &o) })
	if in.recv.Load() != 101 {
		t.Fatalf("received %d of 101", in.recv.Load())
	}
	if a != 0 {
		t.Errorf("receiveRTP: %.1f allocations per packet", a)
	}
}
