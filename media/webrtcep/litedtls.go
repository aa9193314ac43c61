package webrtcep

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/transport/v5/deadline"
)

// dtlsPipe is the net.PacketConn pion/dtls runs on: the endpoint's reader
// demultiplexes the socket and delivers DTLS records here; writes go to
// the selected peer on the socket.
type dtlsPipe struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	peer   netip.AddrPort
	in     chan []byte
	rd     *deadline.Deadline
	once   sync.Once
	closed chan struct{}
}

// dtlsQueue bounds the records waiting for the handshake.
const dtlsQueue = 32

func newDTLSPipe(conn *net.UDPConn) *dtlsPipe {
	return &dtlsPipe{conn: conn, in: make(chan []byte, dtlsQueue), rd: deadline.New(), closed: make(chan struct{})}
}

func (p *dtlsPipe) setPeer(ap netip.AddrPort) {
	p.mu.Lock()
	p.peer = ap
	p.mu.Unlock()
}

func (p *dtlsPipe) getPeer() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peer
}

// deliver hands a record to DTLS, dropping it when the queue is full
// (DTLS retransmits); it reports whether it was queued.
func (p *dtlsPipe) deliver(pkt []byte) bool {
	select {
	case p.in <- append([]byte(nil), pkt...):
		return true
	default:
		return false
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (p *dtlsPipe) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-p.in:
		return copy(b, d), net.UDPAddrFromAddrPort(p.getPeer()), nil
	case <-p.closed:
		return 0, nil, net.ErrClosed
	case <-p.rd.Done():
		return 0, nil, timeoutError{}
	}
}

func (p *dtlsPipe) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-p.closed:
		return 0, net.ErrClosed
	default:
	}
	peer := p.getPeer()
	if !peer.IsValid() {
		return 0, errors.New("dtls write: no peer address yet")
	}
	n, err := p.conn.WriteToUDPAddrPort(b, peer)
	if err != nil {
		return n, fmt.Errorf("dtls write: %w", err)
	}
	return n, nil
}

func (p *dtlsPipe) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *dtlsPipe) LocalAddr() net.Addr { return p.conn.LocalAddr() }

func (p *dtlsPipe) SetDeadline(t time.Time) error     { p.rd.Set(t); return nil }
func (p *dtlsPipe) SetReadDeadline(t time.Time) error { p.rd.Set(t); return nil }
func (p *dtlsPipe) SetWriteDeadline(time.Time) error  { return nil }
