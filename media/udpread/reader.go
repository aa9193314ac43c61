package udpread

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// Size is the largest datagram read (an Ethernet MTU's payload).
const Size = 1500

// burst bounds the datagrams one wake-up takes before the buffer goes
// back and the reader reads again.
const burst = 16

// Buffer is one datagram's space.
type Buffer = [Size]byte

// Buffers is a pool of datagram buffers shared by many readers. Its zero
// value is ready to use.
type Buffers struct{ pool sync.Pool }

// Get returns a buffer; Put gives it back.
func (b *Buffers) Get() *Buffer {
	if buf, ok := b.pool.Get().(*Buffer); ok {
		return buf
	}
	return new(Buffer)
}

// Put gives a buffer back to the pool.
func (b *Buffers) Put(buf *Buffer) { b.pool.Put(buf) }

// Reader reads one socket on its owner's goroutine (Run).
type Reader struct {
	conn   *net.UDPConn
	bufs   *Buffers
	handle func(pkt []byte, from netip.AddrPort)
	rsa    syscall.RawSockaddrAny // the source of the datagram read last
	own    *Buffer                // without Buffers
	errs   atomic.Uint64          // read errors other than EAGAIN/EINTR
}

// NewReader returns a reader of conn handing datagrams to handle, with
// buffers from bufs (nil: one buffer of its own, made on first use).
// handle runs on the reader's goroutine; pkt is valid only until it
// returns.
func NewReader(conn *net.UDPConn, bufs *Buffers, handle func(pkt []byte, from netip.AddrPort)) *Reader {
	return &Reader{conn: conn, bufs: bufs, handle: handle}
}

// Run reads until the socket is closed (it returns nil) or cannot be
// read raw (the error). A read deadline that passes calls onTimeout (nil:
// nothing) and reading goes on.
func (r *Reader) Run(onTimeout func()) error {
	rc, err := r.conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("udp read: %w", err)
	}
	drain := func(fd uintptr) bool {
		_, more := r.Drain(int(fd))
		return more
	}
	for {
		// Read calls drain; when it returns false, Read waits until the
		// socket is readable (or the read deadline) and calls it again.
		err := rc.Read(drain)
		switch {
		case err == nil: // a full burst: read on
		case errors.Is(err, net.ErrClosed):
			return nil
		default:
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				if onTimeout != nil {
					onTimeout()
				}
				continue
			}
			return fmt.Errorf("udp read: %w", err)
		}
	}
}

// Drain hands the non-blocking socket fd's datagrams to the handler
// until it has none (more false: wait for more) or a burst was read
// (more true: go on), and returns how many it read. It allocates
// nothing once the pool holds a buffer.
func (r *Reader) Drain(fd int) (n int, more bool) {
	buf := r.own
	if r.bufs != nil {
		buf = r.bufs.Get()
		defer r.bufs.Put(buf)
	} else if buf == nil {
		r.own = new(Buffer)
		buf = r.own
	}
	for range burst {
		size, from, errno := RecvFrom(fd, buf[:], &r.rsa)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			if errno != syscall.EAGAIN {
				r.errs.Add(1)
			}
			return n, false
		}
		n++
		if from.IsValid() {
			r.handle(buf[:size], from)
		}
	}
	return n, true
}

// Errors counts the read errors seen (other than "no datagram").
func (r *Reader) Errors() uint64 { return r.errs.Load() }
