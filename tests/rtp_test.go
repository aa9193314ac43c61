package tests

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// rtpPeer is the media side of a test SIP client (sipp does signalling
// only): it receives RTP on a loopback port, decodes PCMU/PCMA and Opus
// (PT 111, at 8 kHz), and can send a tone back so the softswitch latches
// and relays it.
type rtpPeer struct {
	t    *testing.T
	conn *net.UDPConn

	mu      sync.Mutex
	pcm     []int16
	packets int
	pts     map[uint8]int // audio packets per payload type
	remote  *net.UDPAddr
	done    chan struct{}
	wg      sync.WaitGroup
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	return newRTPPeerOn(t, "127.0.0.1")
}

// newRTPPeerOn is newRTPPeer on another local address.
func newRTPPeerOn(t *testing.T, ip string) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{t: t, conn: c, done: make(chan struct{}), pts: make(map[uint8]int)}
	p.wg.Add(1)
	go p.receive()
	t.Cleanup(p.close)
	return p
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *rtpPeer) close() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.done)
	p.conn.Close()
	p.wg.Wait()
}

func (p *rtpPeer) receive() {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	var pkt rtp.Packet
	frame := make([]int16, 2048)
	dec, err := opus.NewDecoder(opus.Config{Rate: 8000})
	if err != nil {
		p.t.Error(err)
		return
	}
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		var k int
		switch pkt.PayloadType {
		case 0:
			k = g711.DecodeULaw(frame, pkt.Payload)
		case 8:
			k = g711.DecodeALaw(frame, pkt.Payload)
		case opusPT:
			if k, err = dec.Decode(frame, pkt.Payload); err != nil {
				continue
			}
		default:
			continue // telephone-event, comfort noise
		}
		p.mu.Lock()
		p.pcm = append(p.pcm, frame[:k]...)
		p.packets++
		p.pts[pkt.PayloadType]++
		p.remote = from
		p.mu.Unlock()
	}
}

// received returns a copy of the decoded audio so far.
func (p *rtpPeer) received() ([]int16, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.pcm...), p.packets
}

// analysis summarises received 8 kHz audio per 500 ms window.
type window struct {
	dBFS     float64
	dominant float64
	tone1k   bool // 1000 Hz dominates and the level is clearly above silence
}

func analyse(pcm []int16) []window {
	const n = 4000 // 500 ms at 8 kHz
	var out []window
	for i := 0; i+n <= len(pcm); i += n {
		w := pcm[i : i+n]
		win := window{dBFS: audiotest.RMSdBFS(w), dominant: audiotest.DominantFrequency(w, 8000, 100, 3500, 10)}
		win.tone1k = win.dBFS > -30 && win.dominant > 980 && win.dominant < 1020
		out = append(out, win)
	}
	return out
}

// waitPackets waits (bounded) for at least n packets.
func (p *rtpPeer) waitPackets(t *testing.T, n int, d time.Duration) {
	t.Helper()
	waitFor(t, d, "RTP packets", func() bool {
		_, got := p.received()
		return got >= n
	})
}

func summary(ws []window) string {
	var b strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&b, "(%.0f, %.0f) ", w.dBFS, w.dominant)
	}
	return b.String()
}

// opusPT is the payload type of Opus in the tests' SDP.
const opusPT = 111

// payloadTypes returns how many audio packets arrived per payload type.
func (p *rtpPeer) payloadTypes() map[uint8]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.pts)
}

// sendTone sends a PCMU tone to addr from the peer's socket, paced at
// real time, until stop is closed or d has passed.
func (p *rtpPeer) sendTone(addr *net.UDPAddr, freq float64, d time.Duration, stop <-chan struct{}) {
	p.sendToneAs(0, addr, freq, d, stop)
}

// sendToneAs is sendTone as PCMU (pt 0) or Opus (opusPT, encoded at
// 8 kHz, RTP clock 48000).
func (p *rtpPeer) sendToneAs(pt uint8, addr *net.UDPAddr, freq float64, d time.Duration, stop <-chan struct{}) {
	tone := media.NewTone(freq, -12, 8000)
	pcm := make([]int16, 160)
	payload := make([]byte, opus.MaxPayload)
	step := 160
	encode := func() int { return g711.EncodeULaw(payload, pcm) }
	if pt == opusPT {
		enc, err := opus.NewEncoder(opus.Config{Rate: 8000})
		if err != nil {
			p.t.Error(err)
			return
		}
		step = 960
		encode = func() int {
			n, err := enc.Encode(payload, pcm)
			if err != nil {
				p.t.Error(err)
			}
			return n
		}
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SSRC: 0x1234abcd}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	end := time.After(d)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-end:
			return
		case <-tick.C:
		}
		tone.Next(pcm)
		n := encode()
		pkt.SequenceNumber, pkt.Timestamp, pkt.Payload = uint16(i), uint32(i*step), payload[:n]
		b, err := pkt.Marshal()
		if err != nil {
			return
		}
		if _, err := p.conn.WriteToUDP(b, addr); err != nil {
			return
		}
	}
}

// mediaAddr reads the c= address and m=audio port of an SDP body.
func mediaAddr(t *testing.T, sdp []byte) *net.UDPAddr {
	t.Helper()
	var ip string
	var port int
	for _, line := range strings.Split(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "c=IN IP4 ") {
			ip = strings.TrimPrefix(line, "c=IN IP4 ")
		}
		if strings.HasPrefix(line, "m=audio ") {
			fmt.Sscanf(line, "m=audio %d", &port)
		}
	}
	if ip == "" || port == 0 {
		t.Fatalf("no media address in SDP:\n%s", sdp)
	}
	return &net.UDPAddr{IP: net.ParseIP(ip), Port: port}
}

// clear forgets the audio received so far.
func (p *rtpPeer) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pcm, p.packets = nil, 0
}

// sendDTMF sends one RFC 4733 digit (PT 101) to addr: updates every 20 ms
// for 100 ms, then the three end packets.
func (p *rtpPeer) sendDTMF(t *testing.T, addr *net.UDPAddr, digit rune, seq *uint16, ts uint32) {
	t.Helper()
	ev, ok := media.DigitToEvent(digit)
	if !ok {
		t.Fatalf("bad digit %q", digit)
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 0x5555, Timestamp: ts}}
	payload := make([]byte, 4)
	for i := 1; i <= 8; i++ {
		end := i > 5
		dur := uint16(min(i, 5) * 160)
		media.DTMFEvent{Event: ev, End: end, Volume: 10, Duration: dur}.Marshal(payload)
		pkt.Marker = i == 1
		*seq++
		pkt.SequenceNumber, pkt.Payload = *seq, payload
		b, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.conn.WriteToUDP(b, addr); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
