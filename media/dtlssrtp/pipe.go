package dtlssrtp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/transport/v5/deadline"
)

// Pipe is the net.PacketConn pion/dtls runs on when the socket is shared
// with ICE and SRTP (RFC 7983): the socket's reader hands DTLS records
// to Deliver; writes go to the peer through the write function.
type Pipe struct {
	local  net.Addr
	write  func(b []byte, to netip.AddrPort) error
	mu     sync.Mutex
	peer   netip.AddrPort
	in     chan []byte
	rd     *deadline.Deadline
	once   sync.Once
	closed chan struct{}
}

// pipeQueue bounds the records waiting for DTLS; more are dropped (DTLS
// retransmits).
const pipeQueue = 32

// NewPipe returns a pipe whose writes go through write; local is its
// LocalAddr.
func NewPipe(local net.Addr, write func(b []byte, to netip.AddrPort) error) *Pipe {
	return &Pipe{local: local, write: write, in: make(chan []byte, pipeQueue), rd: deadline.New(), closed: make(chan struct{})}
}

// SetPeer sets the address DTLS talks to (the selected ICE pair's).
func (p *Pipe) SetPeer(ap netip.AddrPort) {
	p.mu.Lock()
	p.peer = ap
	p.mu.Unlock()
}

// Peer returns the address set by SetPeer.
func (p *Pipe) Peer() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peer
}

// Deliver hands a copy of a record to DTLS and reports whether it was
// queued (false when the queue is full or the pipe closed).
func (p *Pipe) Deliver(pkt []byte) bool {
	select {
	case <-p.closed:
		return false
	default:
	}
	select {
	case p.in <- append([]byte(nil), pkt...):
		return true
	default:
		return false
	}
}

// Drain discards the records waiting (tests that feed the pipe without
// a DTLS connection).
func (p *Pipe) Drain() {
	for len(p.in) > 0 {
		<-p.in
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// ReadFrom returns the next delivered record, as from the peer.
func (p *Pipe) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-p.in:
		return copy(b, d), net.UDPAddrFromAddrPort(p.Peer()), nil
	case <-p.closed:
		return 0, nil, net.ErrClosed
	case <-p.rd.Done():
		return 0, nil, timeoutError{}
	}
}

// WriteTo sends b to the peer set by SetPeer, whatever the address given.
func (p *Pipe) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-p.closed:
		return 0, net.ErrClosed
	default:
	}
	peer := p.Peer()
	if !peer.IsValid() {
		return 0, errors.New("dtls write: no peer address yet")
	}
	if err := p.write(b, peer); err != nil {
		return 0, fmt.Errorf("dtls write: %w", err)
	}
	return len(b), nil
}

// Close ends reads and writes; the socket is its owner's.
func (p *Pipe) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *Pipe) LocalAddr() net.Addr                { return p.local }
func (p *Pipe) SetDeadline(t time.Time) error      { p.rd.Set(t); return nil }
func (p *Pipe) SetReadDeadline(t time.Time) error  { p.rd.Set(t); return nil }
func (p *Pipe) SetWriteDeadline(t time.Time) error { return nil }
