package stream

import (
	"sync/atomic"
	"time"
)

// Sequence limits of RFC 3550 appendix A.1: a jump further ahead than
// maxDropout, or further back than maxMisorder, is a new sequence space.
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// quality measures what the peer sends the way RFC 3550 receivers do:
// the packets its sequence numbers say it sent (A.1, A.3), against those
// that came, for loss; the interarrival jitter of its audio (A.8). The
// reader goroutine writes it; Stats reads the published atomics from any
// goroutine. It allocates nothing.
type quality struct {
	have     bool
	base     uint32 // extended sequence number of the first packet of this sequence space
	max      uint32 // extended highest sequence number seen
	received uint64 // packets of this sequence space
	doneExp  uint64 // expected, of the sequence spaces before
	doneRecv uint64 // received, of the sequence spaces before

	clock       uint32 // of the last audio packet's timestamps
	haveTransit bool
	transit     uint32 // arrival minus RTP timestamp, in clock units
	jitter16    uint32 // RFC 3550 A.8's J, in clock units, times 16

	expected, got atomic.Uint64 // published: packets expected and received so far
	jitterNs      atomic.Int64  // published: J in nanoseconds
}

// restart starts a new sequence space (a new source), keeping the
// counts of the earlier ones.
func (q *quality) restart() {
	if q.have {
		q.doneExp += uint64(q.max-q.base) + 1
		q.doneRecv += q.received
	}
	q.have, q.received, q.haveTransit = false, 0, false
}

// seq counts one packet with sequence number sn.
func (q *quality) seq(sn uint16) {
	if q.have {
		delta := sn - uint16(q.max)
		switch {
		case delta < maxDropout: // ahead (or a duplicate of the highest)
			q.max += uint32(delta)
		case delta <= 0xffff-maxMisorder: // a jump: the peer started afresh
			q.restart()
		}
	}
	if !q.have {
		q.have, q.base, q.max = true, uint32(sn), uint32(sn)
	}
	q.received++
	q.expected.Store(q.doneExp + uint64(q.max-q.base) + 1)
	q.got.Store(q.doneRecv + q.received)
}

// audio updates the jitter with an audio packet of RTP timestamp ts at
// clock Hz that arrived at now (since any fixed epoch).
func (q *quality) audio(ts, clock uint32, now time.Duration) {
	if clock == 0 {
		return
	}
	secs, frac := uint64(now/time.Second), uint64(now%time.Second)
	arrival := uint32(secs*uint64(clock) + frac*uint64(clock)/uint64(time.Second))
	transit := arrival - ts
	if !q.haveTransit || clock != q.clock {
		q.clock, q.transit, q.haveTransit = clock, transit, true
		return
	}
	d := int32(transit - q.transit)
	q.transit = transit
	if d < 0 {
		d = -d
	}
	if uint32(d) > 10*clock { // a timestamp jump, not jitter: a new base
		return
	}
	q.jitter16 += uint32(d) - ((q.jitter16 + 8) >> 4)
	q.jitterNs.Store(int64(q.jitter16) * int64(time.Second) / (16 * int64(q.clock)))
}
