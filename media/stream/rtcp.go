package stream

import (
	"time"

	"github.com/pion/rtcp"
)

// fecOffAfter is how many receiver reports without loss in a row turn
// the Opus encoder's in-band FEC off again.
const fecOffAfter = 3

// ReceiveRTCP takes an RTCP packet (compound or not) from the peer: the
// loss its reports give for our SSRC tunes the Opus encoder's in-band FEC
// (on while the peer loses packets, off after fecOffAfter clean reports),
// so a clean call does not pay FEC's encoding cost, and one that carries
// the time of our last sender report gives the round trip (Stats.RTT).
// Malformed packets are ignored; a report arrives every few seconds, so
// parsing may allocate.
func (s *Stream) ReceiveRTCP(pkt []byte) { s.receiveRTCP(pkt, time.Now()) }

func (s *Stream) receiveRTCP(pkt []byte, now time.Time) {
	pkts, err := rtcp.Unmarshal(pkt)
	if err != nil {
		return
	}
	ssrc := s.SSRC()
	for _, p := range pkts {
		var reports []rtcp.ReceptionReport
		switch r := p.(type) {
		case *rtcp.ReceiverReport:
			reports = r.Reports
		case *rtcp.SenderReport:
			reports = r.Reports
		}
		for _, rr := range reports {
			if rr.SSRC == ssrc {
				s.stats.reports.Add(1)
				s.peerLoss((int(rr.FractionLost)*100 + 255) / 256)
				if rtt, ok := roundTrip(rr.LastSenderReport, rr.Delay, now); ok {
					s.rtt.Store(int64(rtt))
					s.stats.reportsTimed.Add(1)
				}
			}
		}
	}
}

// peerLoss applies one report's loss, in percent, to the send path.
func (s *Stream) peerLoss(percent int) {
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case percent > 0:
		t.loss, t.lossQuiet = percent, 0
	case t.loss > 0:
		if t.lossQuiet++; t.lossQuiet >= fecOffAfter {
			t.loss = 0
		}
	}
	if t.opus != nil {
		if err := t.opus.SetLoss(t.loss); err != nil {
			s.log.Debug("opus fec", "loss", t.loss, "err", err)
		}
	}
}

// PeerLoss returns the loss the peer last reported, in percent, that the
// Opus encoder's FEC follows (0 when FEC is off).
func (s *Stream) PeerLoss() int {
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	return s.tx.loss
}

// SenderReport marshals an RTCP sender report (RFC 3550 §6.4.1) taken at
// now for ssrc: rtpTime is the timestamp of the last packet sent, packets
// and octets the counts sent so far. Both transports send it.
func SenderReport(ssrc, rtpTime, packets, octets uint32, now time.Time) ([]byte, error) {
	sr := rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now), RTPTime: rtpTime, PacketCount: packets, OctetCount: octets}
	return sr.Marshal()
}

// ntpTime converts t to the 64-bit NTP format of RTCP (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// roundTrip is RFC 3550 §6.4.1's round trip from a reception report that
// arrived at now: the arrival less the time of our sender report it names
// (LSR, the middle 32 bits of its NTP time) less the peer's delay since
// (DLSR), in 1/65536 s. Not ok without an LSR, or when the sum comes out
// negative (a report about a sender report that is not ours).
func roundTrip(lsr, dlsr uint32, now time.Time) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	units := int32(uint32(ntpTime(now)>>16) - lsr - dlsr)
	if units < 0 {
		return 0, false
	}
	return time.Duration(int64(units) * int64(time.Second) >> 16), true
}
