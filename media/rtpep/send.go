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

// learnAfter is how long a stranger must keep sending before it is
// learned as a NAT'd peer whose SIP comes from a known public host: the
// peer's own packets, from that host, usually come first.
const learnAfter = time.Second

// peerAddrs is where packets go; immutable once stored, so the receive
// and send paths read it without a lock.
type peerAddrs struct {
	sdpDest     netip.AddrPort // from the peer's SDP
	dest        netip.AddrPort // where packets go: sdpDest, or the latched source
	latched     bool
	rtcpDest    netip.AddrPort
	rtcpLatched bool
	anySeen     bool           // a stranger (rankAny) sent since the SDP address was set
	anySrc      netip.AddrPort // the stranger whose wait runs: the last new one
	anySince    time.Duration  // when it first sent
}

// peer is the peer's addresses: changed under mu (negotiation, latching:
// rare), read from cur with one atomic load. It decides which sources
// may send us the call's media, as rtpengine's strict-source learning
// with its heuristic ranks:
//
//   - the address the peer's SDP names is always accepted, and preferred:
//     once its packets arrive, we send there;
//   - another source is latched only when that is safe: it is the SDP's
//     host with another port (a NAT rewrote the port), or the SDP's
//     address cannot be reached from us (private, link-local or shared
//     address space while ours is not: the peer is behind a NAT), and
//     then a source on the host the peer's SIP comes from is preferred
//     to any other, which is learned only after the same source has
//     sent for learnAfter when that host is known and public;
//   - a source ranked above the latched one takes over at once; any other
//     safe source only after the latched one has been silent for
//     relatchAfter.
//
// A third party spraying the port range therefore never receives a
// call's audio, and never silences the real peer: with a NAT'd peer it
// holds the latch at most until the peer's first packet, and only when the
// peer stays silent for learnAfter or its SIP host is unknown.
type peer struct {
	local    netip.Addr // our media address
	signal   netip.Addr // where the peer's SIP comes from; invalid if unknown
	mu       sync.Mutex
	cur      atomic.Pointer[peerAddrs]
	lastSeen atomic.Int64 // when the latched source last sent, as Endpoint.since
}

func (p *peer) init(local, signal netip.Addr) {
	p.local, p.signal = local, signal.Unmap()
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
		a.sdpDest, a.anySeen = n.dest, false
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
// the packet is accepted and whether the destination changed to src. A
// refused packet costs one atomic load, no lock and no allocation.
func (p *peer) latch(src netip.AddrPort, now time.Duration) (accept, latchedNow bool, sdp netip.AddrPort) {
	a := p.cur.Load()
	if a.latched && src == a.dest {
		p.lastSeen.Store(int64(now))
		return true, false, a.sdpDest
	}
	if take, note := p.decide(a, src, now); !take && !note {
		return false, false, a.sdpDest
	}
	latchedNow = p.update(func(a *peerAddrs) bool {
		take, note := p.decide(a, src, now)
		if note {
			a.anySeen, a.anySrc, a.anySince = true, src, now
		}
		if !take {
			return false
		}
		a.latched, a.dest = true, src
		if !a.rtcpLatched && src.Port() < 65535 {
			a.rtcpDest = netip.AddrPortFrom(src.Addr(), src.Port()+1)
		}
		return true
	})
	a = p.cur.Load()
	accept = a.latched && src == a.dest
	if accept {
		p.lastSeen.Store(int64(now))
	}
	return accept, latchedNow, a.sdpDest
}

// decide says whether src, not the latched source, takes the latch now,
// and whether it is the first stranger to note (the start of its wait).
func (p *peer) decide(a *peerAddrs, src netip.AddrPort, now time.Duration) (take, note bool) {
	r := p.rank(a, src)
	switch {
	case a.latched && src == a.dest:
		return false, false // latched meanwhile
	case r == rankRefused:
		return false, false
	case r == rankAny && p.signalPublic():
		if !a.anySeen || src != a.anySrc {
			// Give the peer's own packets time to come first; the wait
			// is the same stranger's: another one starts it again.
			return false, true
		}
		if now-a.anySince < learnAfter {
			return false, false
		}
	}
	if a.latched && r <= p.rank(a, a.dest) && now-time.Duration(p.lastSeen.Load()) < relatchAfter {
		return false, false
	}
	return true, false
}

// signalPublic tells whether the peer's SIP comes from a known host we can
// reach: its RTP most likely comes from there too.
func (p *peer) signalPublic() bool { return p.signal.IsValid() && !behindNAT(p.signal) }

// Ranks of a source: which may latch, and which takes over from which.
const (
	rankRefused = iota // never latched
	rankAny            // anyone: the peer is behind a NAT we must learn
	rankSignal         // the host the peer's SIP comes from, the peer behind a NAT
	rankSDPHost        // the SDP's host, another port: a NAT rewrote the port
	rankSDP            // the SDP's address itself
)

// rank says how much src looks like the peer.
func (p *peer) rank(a *peerAddrs, src netip.AddrPort) int {
	sdp := a.sdpDest.Addr()
	switch {
	case !a.sdpDest.IsValid():
		return rankRefused // no SDP address yet, or on hold: nothing to learn from
	case src == a.sdpDest:
		return rankSDP
	case src.Addr() == sdp:
		return rankSDPHost
	case !behindNAT(sdp) || behindNAT(p.local):
		return rankRefused // a reachable SDP address: strict
	case p.signal.IsValid() && src.Addr() == p.signal:
		return rankSignal
	}
	return rankAny
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
