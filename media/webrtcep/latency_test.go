package webrtcep

import (
	"context"
	"fmt"
	"math"
	"net"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/rtpep"
)

// TestTranscodedLatency bridges a browser leg (Opus, DTLS-SRTP) to a
// phone leg (PCMU, plain RTP) as b2bua does, and measures per direction
// how long a tone's onset takes from the sender's packet to the first
// loud packet at the receiver: the softswitch's added latency plus two
// loopback hops and SRTP. The bound is generous for a loaded CI machine;
// BENCHMARKS.md carries the real figures under load.
func TestTranscodedLatency(t *testing.T) {
	f, _ := newTestFactory(t)
	e := newTestEndpoint(t, f)
	b := newBrowser(t, chromeLike)
	browserCalls(t, b, e)
	if err := e.SetRate(8000); err != nil {
		t.Fatal(err)
	}
	phone, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	p, err := rtpep.New(rtpep.Config{IP: "127.0.0.1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n",
		phone.LocalAddr().(*net.UDPAddr).Port)
	if _, err := p.Answer(context.Background(), []byte(offer)); err != nil {
		t.Fatal(err)
	}
	e.SetAudioOutput(media.NewGate(p.AudioSink()))
	p.SetAudioOutput(media.NewGate(e.AudioSink()))
	b.record(48000)
	b.waitBound(t)

	// Browser -> phone.
	phoneLoud := make(chan time.Time, 1)
	go func() {
		dec, _ := g711.NewDecoder(g711.PCMU)
		buf := make([]byte, 1500)
		pcm := make([]int16, 1500)
		var pkt rtp.Packet
		for {
			n, err := phone.Read(buf)
			if err != nil {
				return
			}
			if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
				continue
			}
			if m, err := dec.Decode(pcm, pkt.Payload); err == nil && audiotest.RMSdBFS(pcm[:m]) > -30 {
				select {
				case phoneLoud <- time.Now():
				default:
				}
			}
		}
	}()
	sent := sendOnset(t, func(h *rtp.Header, pcm []int16, buf []byte, enc *opus.Encoder) bool {
		n, err := enc.Encode(buf, pcm)
		if err != nil {
			t.Fatal(err)
		}
		h.PayloadType = uint8(b.track.pt(webrtc.MimeTypeOpus, 48000))
		return b.track.write(h, buf[:n])
	}, 48000)
	var toPhone time.Duration
	select {
	case at := <-phoneLoud:
		toPhone = at.Sub(sent)
	case <-time.After(3 * time.Second):
		t.Fatal("the tone never reached the phone")
	}

	// Phone -> browser.
	b.watch.Store(true)
	enc, _ := g711.NewEncoder(g711.PCMU)
	dst := p.LocalAddr()
	sent = sendOnset(t, func(h *rtp.Header, pcm []int16, buf []byte, _ *opus.Encoder) bool {
		h.Version, h.PayloadType, h.SSRC = 2, 0, 0x5eed
		h.SequenceNumber++
		n, _ := enc.Encode(buf[12:], pcm)
		if _, err := h.MarshalTo(buf[:12]); err != nil {
			t.Fatal(err)
		}
		_, err := phone.WriteToUDP(buf[:12+n], dst)
		return err == nil
	}, 8000)
	var toBrowser time.Duration
	waitFor(t, 3*time.Second, "the tone at the browser", func() bool { return b.loud.Load() != 0 })
	toBrowser = time.Unix(0, b.loud.Load()).Sub(sent)
	t.Logf("added latency, onset to onset: browser -> phone %v, phone -> browser %v", toPhone, toBrowser)
	for _, d := range []time.Duration{toPhone, toBrowser} {
		if d < 0 || d > 40*time.Millisecond {
			t.Errorf("latency %v, want under 40 ms (transcoded on arrival, no playout clock)", d)
		}
	}
	if got := e.String(); got != "SRTP(pt=111) -> Opus(decode,8k)" {
		t.Errorf("browser leg receive path %q", got)
	}
}

// sendOnset sends 50 frames of silence, then a 1 kHz tone, every 20 ms
// through send (at rate), and returns when the tone's first packet went.
// The silence lets both legs settle (DTLS, latching, the decoders).
func sendOnset(t *testing.T, send func(h *rtp.Header, pcm []int16, buf []byte, enc *opus.Encoder) bool, rate int) time.Time {
	t.Helper()
	enc, err := opus.NewEncoder(opus.Config{Rate: 48000, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, rate/50)
	buf := make([]byte, 1500)
	var h rtp.Header
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	var onset time.Time
	for i := range 60 {
		for j := range pcm {
			pcm[j] = 0
			if i >= 50 {
				pcm[j] = int16(8000 * math.Sin(2*math.Pi*1000*float64((i-50)*len(pcm)+j)/float64(rate)))
			}
		}
		if i == 50 {
			onset = time.Now()
		}
		if !send(&h, pcm, buf, enc) {
			t.Fatalf("frame %d not sent", i)
		}
		h.Timestamp += uint32(rate / 50) // the RTP clock: 48 kHz for Opus, 8 kHz for PCMU
		<-tk.C
	}
	return onset
}
