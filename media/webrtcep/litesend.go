package webrtcep

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/softswitch/softswitch/media/stream"
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
	b, err := stream.SenderReport(h.SSRC, h.Timestamp, r.packets, r.octets, now)
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
