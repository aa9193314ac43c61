package rtpep

import (
	"net/netip"
)

// ptTE is a telephone-event payload type we offer with its clock rate.
type ptTE struct {
	pt    uint8
	clock uint32
}

// receiveRTP reads RTP until the socket closes. A read that times out is
// the stream's deadline: a gap to conceal, a digit to expire, the RTP
// timeout. It waits for the socket holding no buffer (udpread).
func (e *Endpoint) receiveRTP() {
	defer e.wg.Done()
	if err := e.rtpReader.Run(e.s.Wake); err != nil {
		e.log.Warn("rtp not read", "error", err)
	}
}

// handleRTP processes one received datagram. It allocates nothing for a
// well-formed packet.
func (e *Endpoint) handleRTP(pkt []byte, src netip.AddrPort) {
	p := &e.pkt
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
