package rtpep

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/softswitch/softswitch/media/stream"
)

// relatchAfter is how long the latched source must have been silent
// before another one that is safe to latch onto may take its place.
const relatchAfter = 2 * time.Second

// peerAddrs is where packets go; immutable once stored, so the receive
// and send paths read it without a lock.
type peerAddrs struct {
	sdpDest     netip.AddrPort // from the peer's SDP
	dest        netip.AddrPort // where packets go: sdpDest, or the latched source
	latched     bool
	rtcpDest    netip.AddrPort
	rtcpLatched bool
}

// peer is the peer's addresses: changed under mu (negotiation, latching:
// rare), read from cur with one atomic load. It decides which sources
// may send us the call's media, as rtpengine's strict-source learning:
//
//   - the address the peer's SDP names is always accepted, and preferred:
//     once its packets arrive, we send there;
//   - another source is latched only when that is safe: it is the SDP's
//     host with another port (a NAT rewrote the port), or the SDP's
//     address cannot be reached from us (private, link-local or shared
//     address space while ours is not: the peer is behind a NAT);
//   - once latched, another source may take over only after the latched
//     one has been silent for relatchAfter, and only if it is safe.
//
// A third party spraying the port range therefore never receives a
// call's audio, and never silences the real peer.
type peer struct {
	local    netip.Addr // our media address
	mu       sync.Mutex
	cur      atomic.Pointer[peerAddrs]
	lastSeen atomic.Int64 // when the latched source last sent, as Endpoint.since
}

func (p *peer) init(local netip.Addr) {
	p.local = local
	p.cur.Store(&peerAddrs{})
}

// update applies f to a copy of the addresses and stores it.
func (p *peer) update(f func(a *peerAddrs) bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := *p.cur.Load()
	r := f(&a)
	p.cur.Store(&a)
	return r
}

// apply installs a negotiation's addresses. It reports whether an earlier
// latch was dropped because the peer's SDP address changed.
func (p *peer) apply(n negotiation) (relatched bool) {
	return p.update(func(a *peerAddrs) bool {
		if n.dest == a.sdpDest || !n.dest.IsValid() {
			return false
		}
		if a.sdpDest.IsValid() && a.latched {
			a.latched, a.rtcpLatched, relatched = false, false, true
		}
		a.sdpDest = n.dest
		if !a.latched {
			a.dest = n.dest
		}
		if !a.rtcpLatched {
			a.rtcpDest = n.rtcp
		}
		return relatched
	})
}

// latch decides whether a packet from src, arriving now, is the peer's,
// and latches onto src when the rules above allow. It reports whether
// the packet is accepted and whether the destination changed to src.
func (p *peer) latch(src netip.AddrPort, now time.Duration) (accept, latchedNow bool, sdp netip.AddrPort) {
	if a := p.cur.Load(); a.latched && src == a.dest {
		p.lastSeen.Store(int64(now))
		return true, false, a.sdpDest
	}
	latchedNow = p.update(func(a *peerAddrs) bool {
		switch {
		case a.latched && src == a.dest:
			return false // latched meanwhile
		case src == a.sdpDest:
		case !p.safe(a, src):
			return false
		case a.latched && now-time.Duration(p.lastSeen.Load()) < relatchAfter:
			return false
		}
		a.latched, a.dest = true, src
		if !a.rtcpLatched && src.Port() < 65535 {
			a.rtcpDest = netip.AddrPortFrom(src.Addr(), src.Port()+1)
		}
		return true
	})
	a := p.cur.Load()
	accept = a.latched && src == a.dest
	if accept {
		p.lastSeen.Store(int64(now))
	}
	return accept, latchedNow, a.sdpDest
}

// safe reports whether src, not the SDP's address, may be latched onto.
func (p *peer) safe(a *peerAddrs, src netip.AddrPort) bool {
	sdp := a.sdpDest.Addr()
	switch {
	case !a.sdpDest.IsValid():
		return false // no SDP address yet, or on hold: nothing to learn from
	case src.Addr() == sdp:
		return true // the same host: a NAT rewrote the port
	}
	return behindNAT(sdp) && !behindNAT(p.local)
}

// behindNAT reports whether a is an address a peer behind a NAT writes
// in its SDP: private (RFC 1918, RFC 4193), link-local, loopback, or the
// shared address space of carrier-grade NAT (RFC 6598).
func behindNAT(a netip.Addr) bool {
	cgnat := netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64, 0, 0}), 10)
	return a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLoopback() || a.IsUnspecified() || cgnat.Contains(a)
}

// latchRTCP sends our reports to where the peer's RTCP comes from.
func (p *peer) latchRTCP(src netip.AddrPort) {
	if a := p.cur.Load(); a.rtcpLatched || !a.dest.IsValid() || src.Addr() != a.dest.Addr() {
		return
	}
	p.update(func(a *peerAddrs) bool {
		if !a.rtcpLatched && a.dest.IsValid() && src.Addr() == a.dest.Addr() {
			a.rtcpDest, a.rtcpLatched = src, true
		}
		return false
	})
}

// transport is the Endpoint as the stream's Transport.
type transport struct{ e *Endpoint }

// SendRTP sends one packet to the peer, and a sender report every
// srInterval while we send. It runs under the stream's send lock.
func (t transport) SendRTP(h *rtp.Header, pkt, payload []byte) error {
	e := t.e
	a := e.peer.cur.Load()
	if !a.dest.IsValid() {
		return fmt.Errorf("send rtp: %w", ErrNoPeer)
	}
	if _, err := e.rtpConn.WriteToUDPAddrPort(pkt, a.dest); err != nil {
		return fmt.Errorf("send rtp to %s: %w", a.dest, err)
	}
	e.rtcp.sentPacket(e, h, len(payload), a.rtcpDest)
	return nil
}

// SetReadDeadline wakes the RTP reader at d.
func (t transport) SetReadDeadline(d time.Time) error { return t.e.rtpConn.SetReadDeadline(d) }

// rtcpSend counts what we send for RTCP sender reports; the stream's send
// lock serialises sentPacket.
type rtcpSend struct {
	packets, octets uint32
	lastSR          time.Duration
	sent            atomic.Uint64
}

// sentPacket counts one packet and sends a sender report when packets
// were sent since the last one and the interval has passed.
func (r *rtcpSend) sentPacket(e *Endpoint, h *rtp.Header, n int, dest netip.AddrPort) {
	r.packets++
	r.octets += uint32(n)
	now := e.since()
	if r.lastSR != 0 && now-r.lastSR < e.srInterval || !dest.IsValid() { // the first with the first packet
		return
	}
	r.lastSR = now
	b, err := stream.SenderReport(h.SSRC, h.Timestamp, r.packets, r.octets, time.Now())
	if err != nil {
		e.log.Debug("rtcp sender report", "err", err)
		return
	}
	if _, err := e.rtcpConn.WriteToUDPAddrPort(b, dest); err != nil {
		e.log.Debug("rtcp send", "dest", dest.String(), "err", err)
		return
	}
	r.sent.Add(1)
}
