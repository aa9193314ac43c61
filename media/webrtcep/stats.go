package webrtcep

import (
	"sync/atomic"

	"github.com/softswitch/softswitch/media"
)

// Stats counts what an endpoint did since New.
type Stats struct {
	PacketsSent     uint64 // RTP packets sent (audio and telephone-event)
	PacketsReceived uint64 // RTP packets accepted
	RTCPReceived    uint64 // RTCP packets read (and discarded)
	Decoded         uint64 // frames decoded for the output
	Relayed         uint64 // payloads passed to a PayloadSink undecoded
	Concealed       uint64 // frames concealed by PLC
	Recovered       uint64 // frames recovered from Opus in-band FEC
	FramesDropped   uint64 // frames written to AudioSink but not sent (not connected, hold, DTMF)
	SendErrors      uint64 // packets the transport refused (not connected yet)
	Stray           uint64 // packets dropped: malformed or unknown payload type
	DTMFSent        uint64 // digits sent
	DTMFReceived    uint64 // digits reported
	OutputErrors    uint64 // errors returned by the output sink or a decoder
	EventsDropped   uint64 // events lost because nobody read Events
	Jitter          media.JitterStats
}

type counters struct {
	packetsSent, packetsReceived, rtcpReceived atomic.Uint64
	decoded, relayed, concealed, recovered     atomic.Uint64
	framesDropped, sendErrors, stray           atomic.Uint64
	dtmfSent, dtmfReceived                     atomic.Uint64
	outputErrors, eventsDropped                atomic.Uint64
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	c := &e.stats
	e.rx.mu.Lock()
	js := e.rx.jb.Stats()
	e.rx.mu.Unlock()
	return Stats{
		PacketsSent:     c.packetsSent.Load(),
		PacketsReceived: c.packetsReceived.Load(),
		RTCPReceived:    c.rtcpReceived.Load(),
		Decoded:         c.decoded.Load(),
		Relayed:         c.relayed.Load(),
		Concealed:       c.concealed.Load(),
		Recovered:       c.recovered.Load(),
		FramesDropped:   c.framesDropped.Load(),
		SendErrors:      c.sendErrors.Load(),
		Stray:           c.stray.Load(),
		DTMFSent:        c.dtmfSent.Load(),
		DTMFReceived:    c.dtmfReceived.Load(),
		OutputErrors:    c.outputErrors.Load(),
		EventsDropped:   c.eventsDropped.Load(),
		Jitter:          js,
	}
}
