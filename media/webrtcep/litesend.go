package webrtcep

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// srState counts what we send for RTCP sender reports.
type srState struct {
	packets, octets uint32
	last            time.Time
}

// srInterval is how often we send an RTCP sender report while sending.
const srInterval = 5 * time.Second

// SendRTP encrypts one packet and sends it to the selected pair; it runs
// under the stream's send lock and allocates nothing but the sender
// report every few seconds.
func (c *liteConn) SendRTP(h *rtp.Header, pkt, payload []byte) error {
	tx, peer := c.tx.Load(), c.peer.Load()
	if tx == nil || peer == nil {
		return errNotBound
	}
	out, err := tx.EncryptRTP(c.out[:0], pkt, h)
	if err != nil {
		return fmt.Errorf("srtp: %w", err)
	}
	if _, err := c.conn.WriteToUDPAddrPort(out, *peer); err != nil {
		return fmt.Errorf("send srtp: %w", err)
	}
	c.senderReport(tx, h, len(payload), *peer)
	return nil
}

// senderReport counts a packet sent and sends an SRTCP sender report
// every srInterval.
func (c *liteConn) senderReport(tx *srtp.Context, h *rtp.Header, n int, peer netip.AddrPort) {
	r := &c.sr
	r.packets++
	r.octets += uint32(n)
	now := time.Now()
	if now.Sub(r.last) < srInterval {
		return
	}
	r.last = now
	sr := rtcp.SenderReport{SSRC: h.SSRC, NTPTime: ntpTime(now), RTPTime: h.Timestamp, PacketCount: r.packets, OctetCount: r.octets}
	b, err := sr.Marshal()
	if err != nil {
		return
	}
	out, err := tx.EncryptRTCP(c.out[:0], b, &c.rtcpHdr)
	if err != nil {
		return
	}
	if _, err := c.conn.WriteToUDPAddrPort(out, peer); err == nil {
		c.srSent.Add(1)
	}
}

// ntpTime converts t to the 64-bit NTP format of RTCP (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
