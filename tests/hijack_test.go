package tests

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/media"
)

// A third party sprays every port of rtp_ports with RTP (a 2500 Hz tone)
// before and during a relayed call between two extensions (issue 12,
// RTP hijack by latching). It never receives a byte of the call, and
// each phone hears the other's tone in every half second, never the
// attacker's.
func TestRTPSprayNeverHijacksACall(t *testing.T) {
	t.Parallel()
	lo, hi := freeUDPRange(t, "127.0.0.1", 40)
	s := startServer(t, "", "--dialplan", testDialplan, "--rtp-ports", fmt.Sprintf("%d-%d", lo, hi))
	sprayer := startSprayer(t, "127.0.0.2", "127.0.0.1", lo, hi)
	time.Sleep(200 * time.Millisecond) // the spray is on before the call

	b := bridgedCall(t, s)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.callerMedia.sendTone(b.legA, 1000, 3*time.Second, stop) }()
	go func() { defer wg.Done(); b.calleeMedia.sendTone(b.legB, 440, 3*time.Second, stop) }()
	wg.Wait()
	close(stop)
	b.calleeMedia.waitPackets(t, 140, 5*time.Second)
	b.callerMedia.waitPackets(t, 140, 5*time.Second)
	sent, got := sprayer.stop()
	if sent < 1000 {
		t.Fatalf("the sprayer sent only %d packets", sent)
	}
	if got != 0 {
		t.Fatalf("the third party received %d datagrams of the call (it sent %d)", got, sent)
	}
	t.Logf("the third party sent %d packets to %d-%d and received nothing", sent, lo, hi)
	assertToneEveryWindow(t, "callee", b.calleeMedia, 1000)
	assertToneEveryWindow(t, "caller", b.callerMedia, 440)
	b.call.bye(b.answer)
	b.callee.respond(b.callee.mustRecvRequest("BYE", 5*time.Second), 200, "OK", "")
}

// assertToneEveryWindow checks that every 500 ms of what peer heard is
// the tone want, clearly above silence, and that its last packet did not
// come from the third party (127.0.0.2).
func assertToneEveryWindow(t *testing.T, who string, peer *rtpPeer, want float64) {
	t.Helper()
	pcm, packets := peer.received()
	wins := analyse(pcm)
	t.Logf("%s: %d packets; per 500 ms window (dBFS, dominant Hz): %s", who, packets, summary(wins))
	if len(wins) < 5 {
		t.Fatalf("%s heard only %d windows", who, len(wins))
	}
	for i, w := range wins {
		if w.dBFS < -30 || w.dominant < want-20 || w.dominant > want+20 {
			t.Errorf("%s, window %d: %.0f Hz at %.1f dBFS, want %.0f Hz", who, i, w.dominant, w.dBFS, want)
		}
	}
	peer.mu.Lock()
	from := peer.remote
	peer.mu.Unlock()
	if from == nil || from.IP.Equal(net.IPv4(127, 0, 0, 2)) {
		t.Errorf("%s's last packet came from %v", who, from)
	}
}

// freeUDPRange returns n consecutive ports on ip, starting even,
// that are free now; below the kernel's ephemeral range and above the
// default rtp_ports of the other test servers.
func freeUDPRange(t *testing.T, ip string, n int) (lo, hi int) {
	t.Helper()
	for range 50 {
		lo = 20002 + 2*rand.IntN((32000-20002-n)/2)
		var held []net.PacketConn
		ok := true
		for p := lo; p < lo+n; p++ {
			c, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return lo, lo + n - 1
		}
	}
	t.Fatal("no free UDP port range")
	return 0, 0
}

// sprayer is a third party sending RTP to every port of a range every
// 20 ms, and counting what comes back.
type sprayer struct {
	conn      *net.UDPConn
	sent, got atomic.Int64
	done      chan struct{}
	wg        sync.WaitGroup
}

func startSprayer(t *testing.T, ip, target string, lo, hi int) *sprayer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	s := &sprayer{conn: c, done: make(chan struct{})}
	t.Cleanup(func() { s.stop() })
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFromUDP(buf); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			s.got.Add(1)
		}
	}()
	go func() {
		defer s.wg.Done()
		to := net.ParseIP(target)
		tone := media.NewTone(2500, -6, 8000)
		pcm, payload := make([]int16, 160), make([]byte, 160)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 0xbadbad}}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 3000; i++ { // at most a minute
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
			tone.Next(pcm)
			g711.EncodeULaw(payload, pcm)
			pkt.SequenceNumber, pkt.Timestamp, pkt.Payload = uint16(i), uint32(i*160), payload
			b, err := pkt.Marshal()
			if err != nil {
				t.Error(err)
				return
			}
			for port := lo; port <= hi; port++ {
				if _, err := c.WriteToUDP(b, &net.UDPAddr{IP: to, Port: port}); err == nil {
					s.sent.Add(1)
				}
			}
		}
	}()
	return s
}

// stop ends the spray after a last moment to hear replies, and returns
// how many packets were sent and how many datagrams came back.
func (s *sprayer) stop() (sent, got int64) {
	select {
	case <-s.done:
	default:
		time.Sleep(100 * time.Millisecond)
		close(s.done)
		s.conn.Close()
		s.wg.Wait()
	}
	return s.sent.Load(), s.got.Load()
}

// The callee is a phone behind a NAT: its SDP names a private address we
// cannot reach, while our media address is public, so its RTP source must
// be learned. A third party sprays rtp_ports before and during the call;
// it is not learned while the host the phone's SIP comes from may still
// send, and the phone's packets, from that host, are. The third party gets
// nothing, and each side hears the other in every half second.
func TestRTPSprayNeverHijacksNATedPhone(t *testing.T) {
	t.Parallel()
	lo, hi := freeUDPRange(t, testHostIP, 40)
	s := startServer(t, "", "--dialplan", testDialplan, "--media-ip", testHostIP, "--rtp-ports", fmt.Sprintf("%d-%d", lo, hi))
	sprayer := startSprayer(t, "127.0.0.2", testHostIP, lo, hi)
	time.Sleep(200 * time.Millisecond)

	callee := dialSIPFrom(t, s, "udp", testHostIP) // the NAT's public address
	callee.login("1002", testUsers["1002"], 600, "")
	callerMedia, calleeMedia := newRTPPeer(t), newRTPPeerOn(t, testHostIP)
	caller := dialSIPFrom(t, s, "udp", testHostIP)
	cl := caller.startInvite("1001", testUsers["1001"], "1002", callerMedia.port())
	inv := callee.mustRecvRequest("INVITE", 5*time.Second)
	legB := mediaAddr(t, inv.Body())
	private := strings.ReplaceAll(offer(calleeMedia.port()), "127.0.0.1", "192.168.1.10")
	// Each phone talks as soon as it has the other's answer, as phones do:
	// until the phone behind the NAT sends, its leg has nobody to send to.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	callee.respond(inv, 200, "OK", private)
	go func() { defer wg.Done(); calleeMedia.sendTone(legB, 440, 3*time.Second, stop) }()
	res := cl.finalResponse()
	if res.StatusCode != 200 {
		close(stop)
		t.Fatalf("caller got %d, want 200", res.StatusCode)
	}
	legA := mediaAddr(t, res.Body())
	go func() { defer wg.Done(); callerMedia.sendTone(legA, 1000, 3*time.Second, stop) }()
	cl.ack(res)
	callee.mustRecvRequest("ACK", 5*time.Second)
	wg.Wait()
	close(stop)
	callerMedia.waitPackets(t, 140, 5*time.Second)
	calleeMedia.waitPackets(t, 140, 5*time.Second)
	sent, got := sprayer.stop()
	t.Logf("the third party sent %d packets to %s:%d-%d and received %d", sent, testHostIP, lo, hi, got)
	if got != 0 {
		t.Fatalf("the third party received %d datagrams of the call", got)
	}
	assertToneEveryWindow(t, "caller", callerMedia, 440)
	_, n := calleeMedia.received()
	assertToneEveryWindow(t, "callee", calleeMedia, 1000)
	if logs := s.logs(); !strings.Contains(logs, "rtp latched to peer source") {
		t.Errorf("no latch logged")
	}
	t.Logf("the phone behind the NAT heard %d packets", n)
	cl.bye(res)
	callee.respond(callee.mustRecvRequest("BYE", 5*time.Second), 200, "OK", "")
}
