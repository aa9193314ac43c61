package rtpep

import (
	"errors"
	"net"
	"net/netip"

	"github.com/softswitch/softswitch/media/stream"
)

// ptTE is a telephone-event payload type we offer with its clock rate.
type ptTE struct {
	pt    uint8
	clock uint32
}

// recvLoop is the buffer space of the RTP receive goroutine.
type recvLoop struct {
	buf [maxPacket]byte
	pkt stream.Packet
}

// receiveRTP reads RTP until the socket closes. A read that times out is
// the stream's deadline: a gap to conceal, a digit to expire, the RTP
// timeout.
func (e *Endpoint) receiveRTP() {
	defer e.wg.Done()
	for {
		n, src, err := e.rtpConn.ReadFromUDPAddrPort(e.rl.buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) || e.closed.Load() {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				e.s.Wake()
			}
			continue
		}
		e.handleRTP(e.rl.buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	}
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
