package rtpep

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"github.com/softswitch/softswitch/media/stream"
)

// ptTE is a telephone-event payload type we offer with its clock rate.
type ptTE struct {
	pt    uint8
	clock uint32
}

// recvLoop is the state of the RTP receive goroutine. Its datagram
// buffer is taken from the port pool only while the socket has datagrams
// (an endpoint without a pool keeps its own): a relayed call's two
// endpoints wait for packets most of the time, and held 1.5 KiB each.
type recvLoop struct {
	pkt stream.Packet
	own *[maxPacket]byte
	rsa syscall.RawSockaddrAny
}

// rtpBurst bounds the datagrams one wake-up of the RTP reader takes
// before it gives its buffer back and reads again.
const rtpBurst = 16

// receiveRTP reads RTP until the socket closes. A read that times out is
// the stream's deadline: a gap to conceal, a digit to expire, the RTP
// timeout.
func (e *Endpoint) receiveRTP() {
	defer e.wg.Done()
	rc, err := e.rtpConn.SyscallConn()
	if err != nil {
		e.log.Warn("rtp not read: no raw socket", "error", err)
		return
	}
	drain := func(fd uintptr) bool {
		_, more := e.drainRTP(int(fd))
		return more
	}
	for {
		// Read calls drain; when it returns false, Read waits until the
		// socket is readable (or the read deadline) and calls it again.
		err := rc.Read(drain)
		switch {
		case err == nil: // a full burst: read on
		case errors.Is(err, net.ErrClosed) || e.closed.Load():
			return
		default:
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				e.s.Wake()
			}
		}
	}
}

// drainRTP handles the (non-blocking) socket's datagrams until it has
// none (more false: wait for more) or rtpBurst were read (more true: go
// on), and returns how many it read. It allocates nothing.
func (e *Endpoint) drainRTP(fd int) (n int, more bool) {
	buf := e.rl.own
	if p := e.set.ports; p != nil {
		buf = p.rtcpBuf()
		defer p.bufs.Put(buf)
	} else if buf == nil {
		e.rl.own = new([maxPacket]byte)
		buf = e.rl.own
	}
	for range rtpBurst {
		size, from, err := recvFrom(fd, buf[:], &e.rl.rsa)
		switch {
		case err == syscall.EINTR:
			continue
		case err != 0:
			if err != syscall.EAGAIN && !e.closed.Load() {
				e.log.Debug("rtp read", "error", err)
			}
			return n, false
		}
		n++
		if from.IsValid() {
			e.handleRTP(buf[:size], from)
		}
	}
	return n, true
}

// handleRTP processes one received datagram. It allocates nothing for a
// well-formed packet.
func (e *Endpoint) handleRTP(pkt []byte, src netip.AddrPort) {
	p := &e.rl.pkt
	if !e.s.Parse(pkt, p) {
		return
	}
	accept, latched, sdpDest := e.peer.latch(src, e.since())
	if !accept {
		e.s.Stray()
		return
	}
	if latched {
		e.log.Info("rtp latched to peer source", "source", src.String(), "sdp", sdpDest.String())
	}
	e.s.Receive(p)
}
