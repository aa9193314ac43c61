package tests

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/media/audiotest"
)

// rtpPeer is the media side of a test SIP client (sipp does signalling
// only): it receives RTP on a loopback port, decodes PCMU/PCMA, and can
// send a tone back so the softswitch latches and relays it.
type rtpPeer struct {
	t    *testing.T
	conn *net.UDPConn

	mu      sync.Mutex
	pcm     []int16
	packets int
	remote  *net.UDPAddr
	done    chan struct{}
	wg      sync.WaitGroup
}

func newRTPPeer(t *testing.T) *rtpPeer {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{t: t, conn: c, done: make(chan struct{})}
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
		default:
			continue // telephone-event, comfort noise
		}
		p.mu.Lock()
		p.pcm = append(p.pcm, frame[:k]...)
		p.packets++
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
