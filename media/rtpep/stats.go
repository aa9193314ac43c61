package rtpep

import (
	"sync/atomic"

	"github.com/softswitch/softswitch/media"
)

// Stats counts what an endpoint did since New.
type Stats struct {
	PacketsSent     uint64 // RTP packets sent (audio and telephone-event)
	OctetsSent      uint64 // RTP payload bytes sent
	PacketsReceived uint64 // RTP packets accepted
	OctetsReceived  uint64 // RTP payload bytes accepted
	RTCPSent        uint64 // sender reports sent
	RTCPReceived    uint64 // RTCP packets read (and discarded)
	Decoded         uint64 // frames decoded for the output
	Relayed         uint64 // payloads passed to a PayloadSink undecoded
	Concealed       uint64 // frames concealed by the decoder
	Recovered       uint64 // lost frames recovered from Opus in-band FEC
	FramesDropped   uint64 // frames written to AudioSink but not sent (no peer yet, hold, DTMF)
	Stray           uint64 // packets dropped: malformed, unknown payload type, or not from the latched source
	DTMFSent        uint64 // digits sent
	DTMFReceived    uint64 // digits reported
	OutputErrors    uint64 // errors returned by the output sink
	EventsDropped   uint64 // events lost because nobody read Events
	Jitter          media.JitterStats
}

type counters struct {
	packetsSent, octetsSent         atomic.Uint64
	packetsReceived, octetsReceived atomic.Uint64
	rtcpSent, rtcpReceived          atomic.Uint64
	decoded, relayed, concealed     atomic.Uint64
	recovered                       atomic.Uint64
	framesDropped, stray            atomic.Uint64
	dtmfSent, dtmfReceived          atomic.Uint64
	outputErrors, eventsDropped     atomic.Uint64
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	c := &e.stats
	s := Stats{
		PacketsSent:     c.packetsSent.Load(),
		OctetsSent:      c.octetsSent.Load(),
		PacketsReceived: c.packetsReceived.Load(),
		OctetsReceived:  c.octetsReceived.Load(),
		RTCPSent:        c.rtcpSent.Load(),
		RTCPReceived:    c.rtcpReceived.Load(),
		Decoded:         c.decoded.Load(),
		Relayed:         c.relayed.Load(),
		Concealed:       c.concealed.Load(),
		Recovered:       c.recovered.Load(),
		FramesDropped:   c.framesDropped.Load(),
		Stray:           c.stray.Load(),
		DTMFSent:        c.dtmfSent.Load(),
		DTMFReceived:    c.dtmfReceived.Load(),
		OutputErrors:    c.outputErrors.Load(),
		EventsDropped:   c.eventsDropped.Load(),
	}
	e.rx.mu.Lock()
	s.Jitter = e.rx.jb.Stats()
	e.rx.mu.Unlock()
	return s
}
