package rtpep

import (
	"errors"
	"net/netip"
	"syscall"
)

// rtcpBurst bounds the datagrams one wake-up of the RTCP reader takes
// before it gives its buffer back and reads again.
const rtcpBurst = 32

// receiveRTCP reads RTCP until the socket closes. It waits for the socket
// to be readable holding no buffer, then drains it into one from the port
// pool (an endpoint without a pool keeps its own), so an endpoint does not
// hold 1.5 KiB for datagrams that come every few seconds.
func (e *Endpoint) receiveRTCP() {
	defer e.wg.Done()
	rc, err := e.rtcpConn.SyscallConn()
	if err != nil {
		e.log.Warn("rtcp not read: no raw socket", "error", err)
		return
	}
	var own *[maxPacket]byte
	drain := func(fd uintptr) bool {
		buf := own
		if p := e.set.ports; p != nil {
			buf = p.rtcpBuf()
			defer p.bufs.Put(buf)
		} else if buf == nil {
			own = new([maxPacket]byte)
			buf = own
		}
		return e.drainRTCP(int(fd), buf)
	}
	for {
		// Read calls drain; when it returns false, Read waits until the
		// socket is readable and calls it again. It fails once closed.
		if err := rc.Read(drain); err != nil {
			return
		}
	}
}

// drainRTCP reads the (non-blocking) socket's datagrams into buf until it
// has none (false: wait for more) or rtcpBurst were read (true: go on).
func (e *Endpoint) drainRTCP(fd int, buf *[maxPacket]byte) bool {
	for range rtcpBurst {
		n, sa, err := syscall.Recvfrom(fd, buf[:], 0)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			if !errors.Is(err, syscall.EAGAIN) && !e.closed.Load() {
				e.log.Debug("rtcp read", "error", err)
			}
			return false
		}
		if from, ok := sockaddrPort(sa); ok {
			e.handleRTCP(buf[:n], from)
		}
	}
	return true
}

// handleRTCP accepts one RTCP datagram from src.
func (e *Endpoint) handleRTCP(pkt []byte, src netip.AddrPort) {
	if len(pkt) < 8 || pkt[0]>>6 != 2 {
		return
	}
	e.rtcpIn.Add(1)
	e.peer.latchRTCP(src)
	if a := e.peer.cur.Load(); a.latched && src.Addr() == a.dest.Addr() {
		e.s.ReceiveRTCP(pkt) // its reports tune our Opus FEC
	}
}

// sockaddrPort converts a UDP source address.
func sockaddrPort(sa syscall.Sockaddr) (netip.AddrPort, bool) {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), true
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), true
	}
	return netip.AddrPort{}, false
}
