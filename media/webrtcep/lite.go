package webrtcep

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/softswitch/softswitch/media/dtlssrtp"
	"github.com/softswitch/softswitch/media/stream"
	"github.com/softswitch/softswitch/media/udpread"
)

// liteConn is the lite engine's transport for one call: one UDP socket
// demultiplexed per RFC 7983 by one reader goroutine, which answers ICE
// checks (ICE-lite), feeds DTLS records to the handshake, and decrypts
// SRTP and SRTCP in place of pion's PeerConnection. Once the handshake
// is done the only goroutines of the call are the reader and pion/dtls's
// own record reader; RTP is decrypted and handed to the stream on the
// reader, encrypted and sent on the writer's goroutine.
type liteConn struct {
	e    *Endpoint
	conn *net.UDPConn
	cert *dtlssrtp.Certificate
	pipe *dtlssrtp.Pipe
	// reader reads conn holding no buffer while it waits (udpread); rl is
	// its goroutine's parsing space.
	reader *udpread.Reader
	rl     liteReader

	mu      sync.Mutex // ICE and DTLS state below
	local   iceCreds
	remote  remoteMedia // from the peer's SDP; fingerprint "" until known
	client  bool        // we are the DTLS client
	started bool        // the handshake was started
	dconn   *dtls.Conn  // nil again once released (releaseDTLS)
	// released is set by the reader once the peer's first authenticated
	// SRTP or SRTCP packet let the DTLS connection go.
	released atomic.Bool

	peer atomic.Pointer[netip.AddrPort] // the nominated pair's remote address
	rx   atomic.Pointer[srtp.Context]   // receiving, once DTLS is up; the reader's
	tx   atomic.Pointer[srtp.Context]   // sending, once DTLS is up; under the stream's send lock

	// Under the stream's send lock.
	out     [maxPacket + 64]byte
	sr      srState
	rtcpHdr rtcp.Header

	video videoRelay // relayed video (issue 17)

	dropped atomic.Uint64 // malformed, unauthenticated or unexpected datagrams
	srSent  atomic.Uint64
	checks  atomic.Uint64 // connectivity checks answered

	firstCheck, dtlsUp stream.Instant // the first connectivity check answered; DTLS-SRTP up
}

// remoteMedia is what the lite engine needs from the peer's SDP.
type remoteMedia struct {
	ice         iceCreds
	fingerprint string // sha-256
	setup       string // actpass, active, passive
}

func newLiteConn(e *Endpoint, ip netip.Addr, cert *dtlssrtp.Certificate, bufs *udpread.Buffers) (*liteConn, error) {
	conn, err := bindLite(ip, e.set.portMin, e.set.portMax)
	if err != nil {
		return nil, err
	}
	local, err := newICECreds()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	write := func(b []byte, to netip.AddrPort) error {
		_, err := conn.WriteToUDPAddrPort(b, to)
		return err
	}
	vssrc, err := randUint32()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	c := &liteConn{e: e, conn: conn, cert: cert, pipe: dtlssrtp.NewPipe(conn.LocalAddr(), write), local: local}
	c.video.ssrc = vssrc
	c.reader = udpread.NewReader(conn, bufs, c.handle)
	return c, nil
}

// maxBindTries bounds the ports tried in a range before giving up.
const maxBindTries = 64

// ErrPortsExhausted means no port of the configured range could be bound.
var ErrPortsExhausted = errors.New("webrtcep: no free port in the range")

// bindLite binds the call's socket: on a port the OS chooses, or on one
// of [lo, hi] from a random start, skipping ports in use.
func bindLite(ip netip.Addr, lo, hi int) (*net.UDPConn, error) {
	if lo == 0 {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip.AsSlice()})
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", ip, err)
		}
		return conn, nil
	}
	span := hi - lo + 1
	start, err := randUint32()
	if err != nil {
		return nil, err
	}
	for i := range min(span, maxBindTries) {
		port := lo + (int(start)%span+i)%span
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip.AsSlice(), Port: port})
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("bind %s:%d: %w", ip, port, err)
		}
	}
	return nil, fmt.Errorf("bind %s in %d-%d: %w", ip, lo, hi, ErrPortsExhausted)
}

// addr is the socket's address: our one host candidate.
func (c *liteConn) addr() netip.AddrPort {
	a, _ := c.conn.LocalAddr().(*net.UDPAddr)
	return a.AddrPort()
}

// liteReader is the reader goroutine's parsing space. SRTP and SRTCP are
// decrypted in place, in the datagram's buffer (as pion's sessions do).
type liteReader struct {
	hdr rtp.Header
	pkt stream.Packet
}

// read is the call's reader goroutine: every datagram is handled on
// arrival; a read that times out is the stream's deadline.
func (c *liteConn) read() {
	if err := c.reader.Run(c.e.s.Wake); err != nil && !c.e.closed.Load() {
		c.e.log.Warn("webrtc: socket not read", "err", err)
	}
}

// handle demultiplexes one datagram, on the reader's goroutine.
func (c *liteConn) handle(pkt []byte, from netip.AddrPort) {
	rl := &c.rl
	switch classify(pkt) {
	case classSTUN:
		c.stun(pkt, from)
	case classDTLS:
		if p := c.peer.Load(); p == nil || *p != from || !c.pipe.Deliver(pkt) {
			c.dropped.Add(1)
		}
	case classRTP:
		rx := c.rx.Load()
		if p := c.peer.Load(); rx == nil || p == nil || *p != from {
			c.dropped.Add(1)
			return
		}
		plain, err := rx.DecryptRTP(pkt, pkt, &rl.hdr)
		if err != nil {
			c.dropped.Add(1)
			return
		}
		c.releaseDTLS()
		if c.receiveVideo(plain, &rl.hdr) {
			return
		}
		if c.e.s.Parse(plain, &rl.pkt) {
			c.e.s.Receive(&rl.pkt)
		}
	case classRTCP:
		rx := c.rx.Load()
		if p := c.peer.Load(); rx == nil || p == nil || *p != from {
			c.dropped.Add(1)
			return
		}
		plain, err := rx.DecryptRTCP(pkt, pkt, nil)
		if err != nil {
			c.dropped.Add(1)
			return
		}
		c.releaseDTLS()
		c.e.rtcpIn.Add(1)
		c.e.s.ReceiveRTCP(plain)
		c.receiveFeedback(plain)
	default:
		c.dropped.Add(1)
	}
}

// stun answers a connectivity check; a nominating one (or the first)
// selects the pair and may start DTLS.
func (c *liteConn) stun(pkt []byte, from netip.AddrPort) {
	c.mu.Lock()
	local := c.local
	c.mu.Unlock()
	resp, nominated, err := answerCheck(pkt, from, local)
	if err != nil {
		c.dropped.Add(1)
		c.e.log.Debug("webrtc: stun dropped", "from", from.String(), "err", err)
		return
	}
	c.checks.Add(1)
	c.firstCheck.Mark()
	if _, err := c.conn.WriteToUDPAddrPort(resp, from); err != nil {
		c.e.log.Debug("webrtc: stun response", "to", from.String(), "err", err)
	}
	if p := c.peer.Load(); p != nil && (!nominated || *p == from) {
		return
	}
	c.peer.Store(&from)
	c.pipe.SetPeer(from)
	c.e.log.Debug("webrtc: ice pair selected", "remote", from.String(), "nominated", nominated)
	c.startDTLS()
}

// setRemote takes the peer's ICE credentials, fingerprint and setup
// role from its SDP; it starts DTLS when the pair is known. We are the
// DTLS client when the peer is passive, or when it offered actpass and
// we answer (setup:active, as pion and browsers answer).
func (c *liteConn) setRemote(r remoteMedia, answering bool) error {
	c.mu.Lock()
	if c.remote.fingerprint != "" && !strings.EqualFold(c.remote.fingerprint, r.fingerprint) {
		c.mu.Unlock()
		return fmt.Errorf("%w: the peer's certificate fingerprint changed in a re-offer (a new DTLS session is not supported)", ErrNegotiation)
	}
	if c.started {
		c.remote.ice = r.ice
		c.mu.Unlock()
		return nil
	}
	c.remote = r
	c.client = r.setup == "passive" || (answering && r.setup != "active")
	c.mu.Unlock()
	c.startDTLS()
	return nil
}

// localSetup is our a=setup in an answer to an offer with setup.
func localSetup(offered string) string {
	if offered == "active" {
		return "passive"
	}
	return "active"
}

// startDTLS starts the handshake once the peer's SDP and the ICE pair
// are both known.
func (c *liteConn) startDTLS() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.remote.fingerprint == "" || c.peer.Load() == nil {
		return
	}
	cfg := dtlssrtp.Config(c.cert, c.remote.fingerprint)
	rAddr := net.UDPAddrFromAddrPort(*c.peer.Load())
	var err error
	if c.client {
		c.dconn, err = dtls.Client(c.pipe, rAddr, cfg)
	} else {
		c.dconn, err = dtls.Server(c.pipe, rAddr, cfg)
	}
	if err != nil {
		c.e.log.Warn("dtls failed: cannot start the handshake; no media", "err", err)
		return
	}
	c.started = true
	dc, client := c.dconn, c.client
	c.e.goTracked(func() { c.handshake(dc, client) })
}

// handshake runs DTLS to its end and installs the SRTP keys. It is
// bounded by the DTLS timeout from its start, once the ICE pair and the
// peer's SDP are both known (never while our answer waits unsent for the
// callee): a failure ends the leg (EventTimeout), reason logged.
func (c *liteConn) handshake(dc *dtls.Conn, client bool) {
	timeout := c.e.set.dtlsTimeout
	if timeout <= 0 {
		timeout = DefaultDTLSTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := dc.HandshakeContext(ctx); err != nil {
		if !c.e.closed.Load() {
			c.e.log.Warn("dtls failed: peer certificate does not match the sdp fingerprint or the handshake failed; no media", "err", err)
			c.e.s.Fail("dtls failed: " + err.Error())
		}
		return
	}
	tx, rx, err := dtlssrtp.Contexts(dc, client)
	if err != nil {
		c.e.log.Warn("dtls failed: no srtp keys; no media", "err", err)
		c.e.s.Fail("dtls failed: " + err.Error())
		return
	}
	// Video is sent from the other leg's reader: a context of its own,
	// same keys, its own SSRCs.
	vtx, _, err := dtlssrtp.Contexts(dc, client)
	if err != nil {
		c.e.log.Warn("dtls failed: no srtp keys; no media", "err", err)
		c.e.s.Fail("dtls failed: " + err.Error())
		return
	}
	c.setVideoTx(vtx)
	c.tx.Store(tx)
	c.rx.Store(rx)
	c.dtlsUp.Mark()
	c.e.log.Debug("webrtc: dtls-srtp up", "client", client)
	bound := true
	c.e.setSending(nil, &bound)
}

// releaseDTLS lets the DTLS connection go once the peer has proved, by
// its first authenticated SRTP or SRTCP packet, that it completed the
// handshake: it will retransmit no flight for us to answer, and the keys
// are in the SRTP contexts. pion/dtls's goroutines (record reader,
// handshake loop, read-context watcher) and its state then leave the
// call. The pipe is closed first, so no close_notify reaches the peer
// (its session goes on; SIP ends the call); later DTLS records are
// dropped. On the reader; one atomic load once done.
func (c *liteConn) releaseDTLS() {
	if c.released.Load() {
		return
	}
	c.released.Store(true)
	c.mu.Lock()
	dc := c.dconn
	c.dconn = nil
	c.mu.Unlock()
	if dc == nil {
		return
	}
	_ = c.pipe.Close()
	closeDTLS := func() {
		if err := dc.Close(); err != nil {
			c.e.log.Debug("webrtc: dtls released", "err", err)
		}
	}
	if !c.e.goTracked(closeDTLS) {
		closeDTLS() // the endpoint is closing: at once
	}
}

// SetReadDeadline wakes the reader at d.
func (c *liteConn) SetReadDeadline(d time.Time) error { return c.conn.SetReadDeadline(d) }

// role is our DTLS role once the handshake started ("client" or
// "server"), else "".
func (c *liteConn) role() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.started:
		return ""
	case c.client:
		return "client"
	}
	return "server"
}

// connected reports whether SRTP is up.
func (c *liteConn) connected() bool { return c.rx.Load() != nil }

// close sends DTLS close_notify (unless the connection was released)
// and releases the socket; the reader and the handshake end.
func (c *liteConn) close() error {
	c.mu.Lock()
	dc := c.dconn
	c.mu.Unlock()
	var err error
	if dc != nil {
		err = dc.Close()
	}
	_ = c.pipe.Close()
	if cerr := c.conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}
