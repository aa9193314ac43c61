package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/softswitch/softswitch/codecs/g711"
)

// The RTP load: every stream sends one 20 ms PCMU packet per 20 ms. The
// relayed payload carries its send time and a counter, coded in µ-law
// bytes that survive a decode and re-encode (four bits per byte, 0x20|n),
// so the far end measures the time each packet took through the
// softswitch and the packets lost, per stream, without a shared clock
// problem (one process sends and receives).

const (
	frameDur   = 20 * time.Millisecond
	slots      = 20 // streams are spread over 20 one-millisecond slots
	markerLen  = 17 // 8 nibbles time, 8 nibbles counter, 1 check
	pcmuLen    = 160
	rtpHdrLen  = 12
	maxLatency = 2 * time.Second
)

func putNibbles(dst []byte, v uint32) byte {
	var x byte
	for i := 0; i < 8; i++ {
		n := byte(v>>(28-4*i)) & 0xf
		dst[i] = 0x20 | n
		x ^= n
	}
	return x
}

func getNibbles(src []byte) (uint32, byte, bool) {
	var v uint32
	var x byte
	for i := 0; i < 8; i++ {
		if src[i]&0xf0 != 0x20 {
			return 0, 0, false
		}
		n := src[i] & 0xf
		v = v<<4 | uint32(n)
		x ^= n
	}
	return v, x, true
}

// histogram of latencies in 50 µs buckets up to maxLatency.
type histogram struct {
	buckets [int(maxLatency / (50 * time.Microsecond))]atomic.Uint64
}

func (h *histogram) add(d time.Duration) {
	i := int(d / (50 * time.Microsecond))
	if i < 0 {
		i = 0
	}
	if i >= len(h.buckets) {
		i = len(h.buckets) - 1
	}
	h.buckets[i].Add(1)
}

func (h *histogram) reset() {
	for i := range h.buckets {
		h.buckets[i].Store(0)
	}
}

// percentiles returns the count and the given percentiles in ms.
func (h *histogram) percentiles(ps ...float64) (uint64, []float64) {
	var total uint64
	counts := make([]uint64, len(h.buckets))
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	out := make([]float64, len(ps))
	if total == 0 {
		return 0, out
	}
	for j, p := range ps {
		want := uint64(math.Ceil(p / 100 * float64(total)))
		var run uint64
		for i, c := range counts {
			run += c
			if run >= want {
				out[j] = float64(i+1) * 0.05 // upper edge of the bucket, ms
				break
			}
		}
	}
	return total, out
}

// counters are shared by all streams of one direction.
type counters struct {
	sent, recv, bad atomic.Int64
	lat             histogram
}

func (c *counters) reset() { c.sent.Store(0); c.recv.Store(0); c.bad.Store(0); c.lat.reset() }

// frameSender is anything the pacer sends one frame per 20 ms through.
type frameSender interface{ sendFrame() }

// pacer sends one frame per 20 ms on every registered sender, spreading
// them over 20 slots so the load arrives as a steady stream, not a burst.
type pacer struct {
	poll *poller // drained after every tick's sends
	mu   sync.Mutex
	slot [slots][]frameSender
	next int
	late atomic.Int64 // ticks that ran behind by more than a frame
	stop chan struct{}
	done chan struct{}
}

func newPacer(poll *poller) *pacer {
	p := &pacer{poll: poll, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *pacer) add(s frameSender) {
	p.mu.Lock()
	p.slot[p.next%slots] = append(p.slot[p.next%slots], s)
	p.next++
	p.mu.Unlock()
}

func (p *pacer) clear() {
	p.mu.Lock()
	p.slot = [slots][]frameSender{}
	p.mu.Unlock()
}

// loop is the generator's media thread: it sends the tick's frames, then
// drains the sockets. It keeps its OS thread and sleeps in the kernel
// (nanosleep, not a Go timer: no scheduler pass and no futex hand-off
// per tick). It runs at the server's priority: at nice -10 the server
// lost packets under its preemptions.
func (p *pacer) loop() {
	defer close(p.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	for tick := 0; ; tick++ {
		due := start.Add(time.Duration(tick) * time.Millisecond)
		if d := time.Until(due); d > 0 {
			for i := 0; i < 100 && d > 0; i++ { // a signal may cut a sleep short
				ts := syscall.NsecToTimespec(int64(d))
				_, _, _ = syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
				d = time.Until(due)
			}
		} else if -d > 5*time.Millisecond {
			// Starved of CPU: skip the missed ticks rather than send a
			// burst (those frames are not sent, and not counted as sent).
			p.late.Add(1)
			tick = int(time.Since(start) / time.Millisecond)
		}
		select {
		case <-p.stop:
			return
		default:
		}
		// Held while sending, so that once clear returns no frame is
		// being sent (a stream can then close its socket).
		p.mu.Lock()
		for _, s := range p.slot[tick%slots] {
			s.sendFrame()
		}
		p.mu.Unlock()
		p.poll.drain()
	}
}

func (p *pacer) close() { close(p.stop); <-p.done }

// rtpStream is one PCMU RTP endpoint of the load generator: the pacer
// sends, the stage's poller delivers what arrives (receive).
type rtpStream struct {
	sock   *udpSock
	poll   *poller
	remote atomic.Pointer[sockaddr4]
	out    *counters // what this stream sends
	in     *counters // what this stream receives
	pkt    []byte
	seq    uint16
	ts     uint32
	ctr    uint32
	marker bool // relay: payloads carry time and counter
	// transcode: the payload is a 50-frame µ-law cycle (silence, then
	// speech from frame burstFrame, whose send time goes to burst); onset
	// detection measures the latency from the peer's burst (unix ns).
	audio     [][]byte
	burst     atomic.Int64
	peerBurst *atomic.Int64
	onset     onset
	pcm       []int16 // receive scratch (the poller's goroutine only)
}

func newRTPStream(poll *poller, out, in *counters, marker bool) (*rtpStream, error) {
	sock, err := openUDP()
	if err != nil {
		return nil, err
	}
	s := &rtpStream{sock: sock, poll: poll, out: out, in: in, pkt: make([]byte, rtpHdrLen+pcmuLen), marker: marker, pcm: make([]int16, pcmuLen)}
	s.pkt[0] = 0x80
	binary.BigEndian.PutUint32(s.pkt[8:], uint32(time.Now().UnixNano()))
	for i := rtpHdrLen; i < len(s.pkt); i++ {
		s.pkt[i] = 0xfe // near silence, not the ambiguous zero codes
	}
	if err := poll.add(sock, s); err != nil {
		sock.close()
		return nil, err
	}
	return s, nil
}

func (s *rtpStream) port() int { return s.sock.port }

// setRemote sets where the stream sends (from an SDP's c= and m=).
func (s *rtpStream) setRemote(ip string, port int) error {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() || port <= 0 || port > 65535 {
		return fmt.Errorf("remote %s:%d: not an IPv4 address and port", ip, port)
	}
	s.remote.Store(newSockaddr4(netip.AddrPortFrom(a, uint16(port))))
	return nil
}

func (s *rtpStream) sendFrame() {
	to := s.remote.Load()
	if to == nil {
		return
	}
	binary.BigEndian.PutUint16(s.pkt[2:], s.seq)
	binary.BigEndian.PutUint32(s.pkt[4:], s.ts)
	p := s.pkt[rtpHdrLen:]
	if s.marker {
		now := uint32(time.Now().UnixMicro()) // the receiver has the kernel's arrival time, unix too
		x := putNibbles(p[0:8], now) ^ putNibbles(p[8:16], s.ctr)
		p[16] = 0x20 | x
	} else if len(s.audio) > 0 {
		i := int(s.ctr) % len(s.audio)
		if i == burstFrame {
			s.burst.Store(time.Now().UnixNano())
		}
		copy(p, s.audio[i])
	}
	s.seq++
	s.ts += pcmuLen
	s.ctr++
	if s.sock.sendTo(s.pkt, to) == nil {
		s.out.sent.Add(1)
	}
}

// receive runs on the poller's goroutine and allocates nothing.
func (s *rtpStream) receive(pkt []byte, _ *sockaddr4, at int64) {
	n := len(pkt)
	if n < rtpHdrLen+markerLen || pkt[1]&0x7f != 0 {
		return // RTCP or an event: not counted
	}
	p := pkt[rtpHdrLen:n]
	if !s.marker {
		s.in.recv.Add(1)
	}
	switch {
	case s.marker:
		sent, x1, ok1 := getNibbles(p[0:8])
		_, x2, ok2 := getNibbles(p[8:16])
		if !ok1 || !ok2 || p[16] != 0x20|(x1^x2) {
			s.in.bad.Add(1)
			return
		}
		s.in.recv.Add(1)
		now := uint32(at / 1000)
		s.in.lat.add(time.Duration(now-sent) * time.Microsecond)
	case s.peerBurst != nil:
		k := g711.DecodeULaw(s.pcm, p)
		s.onset.observe(s.pcm[:k], at, s.peerBurst, &s.in.lat)
	}
}

// onset measures latency from a peer's tone or speech onset: an onset is
// a loud frame after at least 5 quiet ones (the cycle has 10), so a
// concealed or stray loud frame in the silence does not count; a match
// must come within half a cycle of the peer's send time.
type onset struct {
	quiet int
	// skip: frames after an onset that need no look (the Opus receiver
	// decodes only the end of each cycle's loud part, the silence and the
	// next onset, not the 800 ms of speech in between).
	skip int
}

// onsetSkip frames are skipped after an onset: 34 of the 40 loud frames,
// leaving 6 loud and 10 quiet ones before the next onset as margin.
const onsetSkip = 34

// observe takes one frame that arrived at (unix ns) and reports whether
// it is an onset.
func (o *onset) observe(pcm []int16, at int64, peerBurst *atomic.Int64, lat *histogram) bool {
	if len(pcm) == 0 {
		return false
	}
	var sum int64
	for _, v := range pcm {
		sum += int64(max(v, -v))
	}
	level := sum / int64(len(pcm))
	found := level > 1500 && o.quiet >= 5
	if found {
		if b := peerBurst.Load(); b != 0 {
			if d := time.Duration(at - b); d >= 0 && d < 500*time.Millisecond {
				lat.add(d)
			}
		}
	}
	if level < 300 {
		o.quiet++
	} else {
		o.quiet = 0
	}
	return found
}

func (s *rtpStream) close() { s.poll.remove(s.sock); s.sock.close() }
