package rtpep

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"github.com/softswitch/softswitch/media/udpread"
)

// PortPool hands out RTP ports from a range: even ports for RTP, the odd
// port above for RTCP (RFC 3550 §11). Each allocation starts at a random
// pair and takes the first free one from there, so a third party cannot
// predict a call's port from the last one (as rtpengine does); a port the
// OS reports busy is skipped. It is safe for concurrent use by many
// endpoints.
type PortPool struct {
	mu    sync.Mutex
	first int    // lowest RTP port (even)
	used  []bool // per pair
	inUse int
	// bufs are the endpoints' datagram buffers, taken only while a
	// socket has datagrams to read (udpread).
	bufs udpread.Buffers
	// rtcp reads the RTCP sockets of the pool's endpoints on one
	// goroutine (where epoll is available).
	rtcp rtcpPoller
}

// NewPortPool returns a pool of the RTP/RTCP pairs inside [lo, hi]: RTP on
// every even port p with p+1 <= hi.
func NewPortPool(lo, hi int) (*PortPool, error) {
	if lo < 1 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("%w: port range %d-%d", ErrConfig, lo, hi)
	}
	first := lo + lo%2
	pairs := (hi - first + 1) / 2
	if pairs < 1 {
		return nil, fmt.Errorf("%w: port range %d-%d holds no RTP/RTCP pair", ErrConfig, lo, hi)
	}
	return &PortPool{first: first, used: make([]bool, pairs)}, nil
}

// Size returns the number of RTP/RTCP pairs in the pool.
func (p *PortPool) Size() int { return len(p.used) }

// InUse returns the number of pairs held by endpoints.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}

// reserve marks the next free pair as used and returns its RTP port.
func (p *PortPool) reserve() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.used)
	if p.inUse == n {
		return 0, false
	}
	start := rand.IntN(n)
	for i := range n {
		idx := (start + i) % n
		if !p.used[idx] {
			p.used[idx] = true
			p.inUse++
			return p.first + 2*idx, true
		}
	}
	return 0, false
}

func (p *PortPool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	idx := (port - p.first) / 2
	if idx >= 0 && idx < len(p.used) && p.used[idx] {
		p.used[idx] = false
		p.inUse--
	}
}

// bind binds an RTP/RTCP pair on ip from the pool, skipping pairs the OS
// reports busy.
func (p *PortPool) bind(ip netip.Addr) (rtpConn, rtcpConn *net.UDPConn, port int, err error) {
	for range len(p.used) {
		port, ok := p.reserve()
		if !ok {
			break
		}
		rtpConn, rtcpConn, err := bindPair(ip, port)
		if err == nil {
			return rtpConn, rtcpConn, port, nil
		}
		p.release(port)
		if !portBusy(err) {
			return nil, nil, 0, err
		}
	}
	return nil, nil, 0, fmt.Errorf("bind %s in %d-%d: %w", ip, p.first, p.first+2*len(p.used)-1, ErrPortsExhausted)
}

// bindEphemeral binds an RTP/RTCP pair on ports chosen by the OS.
func bindEphemeral(ip netip.Addr) (rtpConn, rtcpConn *net.UDPConn, port int, err error) {
	const attempts = 32
	for range attempts {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return nil, nil, 0, fmt.Errorf("bind %s: %w", ip, err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port == 65534 {
			_ = c.Close()
			continue
		}
		rc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			_ = c.Close()
			continue
		}
		return c, rc, port, nil
	}
	return nil, nil, 0, fmt.Errorf("bind %s: no ephemeral even/odd pair: %w", ip, ErrPortsExhausted)
}

func bindPair(ip netip.Addr, port int) (*net.UDPConn, *net.UDPConn, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return nil, nil, fmt.Errorf("bind rtp %s:%d: %w", ip, port, err)
	}
	rc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
	if err != nil {
		_ = c.Close()
		return nil, nil, fmt.Errorf("bind rtcp %s:%d: %w", ip, port+1, err)
	}
	return c, rc, nil
}

func portBusy(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EACCES)
}
