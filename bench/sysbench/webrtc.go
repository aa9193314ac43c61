package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/sounds"
)

// The browser side of a transcoded call, emulated with pion/webrtc: an
// SDP offer in UDP/TLS/RTP/SAVPF (ICE, DTLS-SRTP, rtcp-mux) sent in a SIP
// INVITE over UDP, Opus 48 kHz both ways. It sends packets encoded once at
// start (a 1 s cycle: 200 ms silence, then a 1 kHz tone at 48 kHz, as a
// browser would code it), so the generator spends no CPU on Opus; the
// tone's onset, seen in the PCMU that reaches the phone side, gives the
// latency through the softswitch's transcoder.

const burstFrame = 10 // frames of silence before the tone, in a 50-frame cycle

// opusCycle encodes one second: silence, then a tone.
func opusCycle() ([][]byte, error) {
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000, FEC: true})
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, 960)
	out := make([][]byte, 50)
	buf := make([]byte, 1500)
	k := 0
	for i := range out {
		for j := range pcm {
			pcm[j] = 0
			if i >= burstFrame {
				pcm[j] = int16(12000 * math.Sin(2*math.Pi*1000*float64(k)/48000))
			}
			k++
		}
		n, err := enc.Encode(buf, pcm)
		if err != nil {
			return nil, err
		}
		out[i] = append([]byte(nil), buf[:n]...)
	}
	return out, nil
}

func newWebRTCAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// rtpengine's answer declares no a=ssrc and its media may come first.
	se.SetHandleUndeclaredSSRCWithoutAnswer(true)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)), nil
}

// browser is one emulated browser leg.
type browser struct {
	pc      *webrtc.PeerConnection
	track   *webrtc.TrackLocalStaticSample
	packets [][]byte
	ctr     int
	out     *counters
	in      *counters
	burst   atomic.Int64 // unix ns of the last tone onset sent
	// peerBurst is the phone's speech onset; what the browser receives is
	// decoded (8 kHz, cheap) only to find that onset.
	peerBurst *atomic.Int64
	dec       *opus.Decoder
}

func newBrowser(api *webrtc.API, cert webrtc.Certificate, packets [][]byte, out, in *counters) (*browser, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{cert}})
	if err != nil {
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "bench")
	if err != nil {
		pc.Close()
		return nil, err
	}
	if _, err := pc.AddTrack(track); err != nil {
		pc.Close()
		return nil, err
	}
	dec, err := opus.NewDecoder(opus.Config{Rate: 8000})
	if err != nil {
		pc.Close()
		return nil, err
	}
	b := &browser{pc: pc, track: track, packets: packets, out: out, in: in, dec: dec}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		pcm := make([]int16, 160)
		var pkt rtp.Packet
		var o onset
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			b.in.recv.Add(1)
			if b.peerBurst == nil || pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 111 {
				continue
			}
			if k, err := b.dec.Decode(pcm, pkt.Payload); err == nil {
				o.observe(pcm[:k], b.peerBurst, &b.in.lat)
			}
		}
	})
	return b, nil
}

// offer returns the complete (non-trickle) SDP offer.
func (b *browser) offer(ctx context.Context) ([]byte, error) {
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
		return nil, errors.New("ICE gathering did not complete in 5 s")
	}
	return []byte(b.pc.LocalDescription().SDP), nil
}

// accept applies the answer and waits until DTLS is up (bounded).
func (b *browser) accept(ctx context.Context, answer []byte) error {
	connected := make(chan struct{})
	var once atomic.Bool
	b.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected && once.CompareAndSwap(false, true) {
			close(connected)
		}
	})
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if b.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		return nil
	}
	select {
	case <-connected:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return fmt.Errorf("ICE/DTLS not connected in 10 s (state %s)", b.pc.ConnectionState())
	}
}

func (b *browser) sendFrame() {
	i := b.ctr % len(b.packets)
	if i == burstFrame {
		b.burst.Store(time.Now().UnixNano())
	}
	b.ctr++
	if err := b.track.WriteSample(media.Sample{Data: b.packets[i], Duration: frameDur}); err == nil {
		b.out.sent.Add(1)
	}
}

func (b *browser) close() { _ = b.pc.Close() }

func newCertificate() (webrtc.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return webrtc.Certificate{}, err
	}
	c, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return webrtc.Certificate{}, err
	}
	return *c, nil
}

// speechCycle is what the desk phone says, in µ-law 20 ms packets: a
// 50-frame cycle of 200 ms silence, then 800 ms of the test audio's speech
// from its first loud frame (the softswitch encodes it to Opus; its onset
// gives the latency towards the browser).
func speechCycle() ([][]byte, error) {
	p, err := sounds.Load("test-audio")
	if err != nil {
		return nil, err
	}
	step := p.Rate / 8000
	var frames [][]int16
	for i := 0; (i+160)*step <= len(p.PCM); i += 160 {
		f := make([]int16, 160)
		for j := range f {
			f[j] = p.PCM[(i+j)*step]
		}
		frames = append(frames, f)
	}
	first := -1
	for i, f := range frames {
		var sum int64
		for _, v := range f {
			sum += int64(max(v, -v))
		}
		if sum/160 > 3000 {
			first = i
			break
		}
	}
	if first < 0 || first+50-burstFrame > len(frames) {
		return nil, errors.New("test audio: no loud speech to use")
	}
	out := make([][]byte, 50)
	for i := range out {
		out[i] = make([]byte, 160)
		if i < burstFrame {
			for j := range out[i] {
				out[i][j] = 0xff // µ-law zero
			}
			continue
		}
		g711.EncodeULaw(out[i], frames[first+i-burstFrame])
	}
	return out, nil
}
