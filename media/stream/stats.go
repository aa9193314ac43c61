package stream

import (
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/media"
)

// Stats counts what a stream did since New.
type Stats struct {
	PacketsSent     uint64 // RTP packets sent (audio and telephone-event)
	OctetsSent      uint64 // RTP payload bytes sent
	PacketsReceived uint64 // RTP packets accepted
	OctetsReceived  uint64 // RTP payload bytes accepted
	Decoded         uint64 // packets decoded for the output
	Relayed         uint64 // payloads passed to a PayloadSink undecoded
	Concealed       uint64 // frames concealed by the decoder (PLC)
	Recovered       uint64 // lost frames recovered from Opus in-band FEC
	FramesDropped   uint64 // frames written to AudioSink but not sent (no peer yet, hold, DTMF)
	SendErrors      uint64 // packets the transport refused (not connected yet)
	Stray           uint64 // packets dropped: malformed, unknown payload type, or refused by the transport
	DTMFSent        uint64 // digits sent
	DTMFReceived    uint64 // digits reported
	OutputErrors    uint64 // errors returned by the output sink or a decoder
	EventsDropped   uint64 // events lost because nobody read Events
	Jitter          media.JitterStats

	// What the peer sends, measured as an RFC 3550 receiver does.
	Expected           uint64        // packets its sequence numbers say it sent (A.3)
	Missing            uint64        // of those, never received (A.3's cumulative lost, never negative)
	InterarrivalJitter time.Duration // of its audio (A.8)
	// RTT is the round trip its last reception report about us gave
	// (RFC 3550 §6.4.1: arrival - LSR - DLSR); 0 before one came.
	RTT time.Duration
	// Reports counts the peer's RTCP reception reports about our SSRC;
	// ReportsTimed those of them that named one of our sender reports and
	// so gave a round trip.
	Reports, ReportsTimed uint64

	// When media first flowed (zero: never): the first RTP packet
	// accepted from the peer, and the first sent to it.
	FirstReceived, FirstSent time.Time
	// The first RTP timeout (no RTP for the stream's timeout) or media
	// failure (as DTLS failing), when and why; zero and "": none.
	FailedAt time.Time
	Failure  string
}

// LossPercent is the share of the packets the peer sent that never came.
func (s Stats) LossPercent() float64 { return LossPercent(s.Missing, s.Expected) }

// LossPercent is missing as a share of expected packets (0 when none were
// expected), the way RFC 3550 receivers report loss.
func LossPercent(missing, expected uint64) float64 {
	if expected == 0 {
		return 0
	}
	return float64(missing) * 100 / float64(expected)
}

type counters struct {
	packetsSent, octetsSent         atomic.Uint64
	packetsReceived, octetsReceived atomic.Uint64
	decoded, relayed, concealed     atomic.Uint64
	recovered, framesDropped        atomic.Uint64
	sendErrors, stray               atomic.Uint64
	dtmfSent, dtmfReceived          atomic.Uint64
	outputErrors, eventsDropped     atomic.Uint64
	reports, reportsTimed           atomic.Uint64
}

// Stats returns the stream's counters; safe from any goroutine.
func (s *Stream) Stats() Stats {
	c := &s.stats
	expected, got := s.rx.q.expected.Load(), s.rx.q.got.Load()
	missing := uint64(0)
	if expected > got {
		missing = expected - got
	}
	return Stats{
		PacketsSent:     c.packetsSent.Load(),
		OctetsSent:      c.octetsSent.Load(),
		PacketsReceived: c.packetsReceived.Load(),
		OctetsReceived:  c.octetsReceived.Load(),
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
		Jitter:          s.rx.jb.Stats(),

		Expected:           expected,
		Missing:            missing,
		InterarrivalJitter: time.Duration(s.rx.q.jitterNs.Load()),
		RTT:                time.Duration(s.rtt.Load()),
		Reports:            c.reports.Load(),
		ReportsTimed:       c.reportsTimed.Load(),

		FirstReceived: s.firstIn.Time(),
		FirstSent:     s.firstOut.Time(),
		FailedAt:      s.failedAt.Time(),
		Failure:       failure(s.failure.Load()),
	}
}

func failure(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
