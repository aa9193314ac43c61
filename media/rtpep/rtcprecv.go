package rtpep

import (
	"net/netip"
)

// receiveRTCP reads RTCP on a goroutine of its own until the socket
// closes (an endpoint the port pool's poller does not read). It waits for
// the socket holding no buffer (udpread).
func (e *Endpoint) receiveRTCP() {
	defer e.wg.Done()
	if err := e.rtcpReader.Run(nil); err != nil {
		e.log.Warn("rtcp not read", "error", err)
	}
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
