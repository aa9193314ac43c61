package webrtcep

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// videoMap is one leg's negotiated video payload types, swapped whole
// when an exchange ends.
type videoMap struct {
	recv [128]codecID          // by payload type received from the browser
	send [numVideoCodecs]int16 // payload type sent to the browser by codec, -1 when not negotiated
}

// newVideoMap maps a leg's negotiated codecs; nil without any.
func newVideoMap(cs []videoCodec) *videoMap {
	if len(cs) == 0 {
		return nil
	}
	m := &videoMap{}
	for i := range m.send {
		m.send[i] = -1
	}
	for _, c := range cs {
		id := videoCodecID(c.name)
		m.recv[c.pt&0x7f] = id
		m.send[id] = int16(c.pt)
	}
	return m
}

// videoRelay is a lite call's video: what the browser sends is forwarded
// to the relay's browser (payload type and SSRC rewritten for that leg,
// nothing decoded), and the RTCP feedback the browser sends about the
// video it receives goes back to the relay's browser, SSRCs rewritten.
// Packets are forwarded on the reader goroutine of the leg they came from.
type videoRelay struct {
	m     atomic.Pointer[videoMap]
	to    atomic.Pointer[liteConn] // where received video goes; its feedback comes back here
	ssrc  uint32                   // ours, for the video we send this browser
	in    atomic.Uint32            // the browser's video SSRC, as last received
	fresh atomic.Bool              // no packet sent since the relay was set: ask the source for a keyframe
	last  atomic.Int64             // when the browser's last video packet arrived (Unix ns)

	mu   sync.Mutex    // sending: vtx and the buffers
	tx   *srtp.Context // a sending context of its own (the audio's belongs to the stream's send lock)
	out  [maxPacket + 64]byte
	hdr  rtp.Header
	rhdr rtcp.Header

	received, sent, dropped atomic.Uint64 // RTP packets
	feedbackIn, feedbackOut atomic.Uint64 // RTCP feedback read from the browser and relayed to it
}

// VideoStats counts a lite endpoint's relayed video.
type VideoStats struct {
	Received, Sent, Dropped uint64 // RTP packets from the browser, to it, and not relayed
	// FeedbackIn counts RTCP feedback (PLI, FIR, NACK, REMB, reports about
	// the video we send) read from the browser and relayed to the source;
	// FeedbackOut the compound packets sent to the browser.
	FeedbackIn, FeedbackOut uint64
}

// receiveVideo relays one decrypted RTP packet when its payload type is
// negotiated video; it reports whether it was.
func (c *liteConn) receiveVideo(pkt []byte, h *rtp.Header) bool {
	v := &c.video
	m := v.m.Load()
	if m == nil {
		return false
	}
	id := m.recv[h.PayloadType&0x7f]
	if id == codecNone {
		return false
	}
	v.received.Add(1)
	v.in.Store(h.SSRC)
	now := time.Now().UnixNano()
	gap := now-v.last.Swap(now) > int64(keyframeGap)
	dst := c.video.to.Load()
	if dst == nil || !dst.sendVideo(pkt, id) {
		v.dropped.Add(1)
		return true
	}
	if dst.video.fresh.CompareAndSwap(true, false) || gap {
		// The receiver's decoder starts here, or resumes after more
		// than its sender can resend: a keyframe, now, rather than once
		// the receiver has given up on its NACKs.
		c.sendFeedback([]rtcp.Packet{&rtcp.PictureLossIndication{SenderSSRC: v.ssrc, MediaSSRC: h.SSRC}})
	}
	return true
}

// keyframeGap is the pause in a browser's video after which we ask it
// for a keyframe as its packets come back (a network outage, a lost
// burst): browsers keep about a second of packets to resend.
const keyframeGap = 500 * time.Millisecond

// sendVideo sends a packet of codec id to the browser, at this leg's
// payload type and our SSRC. It rewrites pkt in place.
func (c *liteConn) sendVideo(pkt []byte, id codecID) bool {
	v := &c.video
	m, peer := v.m.Load(), c.peer.Load()
	if m == nil || m.send[id] < 0 || peer == nil || len(pkt) < 12 {
		return false
	}
	pkt[1] = pkt[1]&0x80 | byte(m.send[id])
	binary.BigEndian.PutUint32(pkt[8:12], v.ssrc)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tx == nil {
		return false
	}
	out, err := v.tx.EncryptRTP(v.out[:0], pkt, &v.hdr)
	if err != nil {
		return false
	}
	if _, err := c.conn.WriteToUDPAddrPort(out, *peer); err != nil {
		return false
	}
	v.sent.Add(1)
	return true
}

// receiveFeedback relays the browser's RTCP about the video we send it
// to the source of that video (the relay). Feedback arrives a few times
// a second (more under loss): parsing may allocate.
func (c *liteConn) receiveFeedback(plain []byte) {
	src := c.video.to.Load()
	if src == nil || c.video.m.Load() == nil {
		return
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		return
	}
	out := relayFeedback(pkts, c.video.ssrc, c.video.in.Load(), src.video.ssrc, src.video.in.Load())
	if len(out) == 0 {
		return
	}
	c.video.feedbackIn.Add(uint64(len(out)))
	src.sendFeedback(out)
}

// relayFeedback rewrites the RTCP a browser sent for the leg whose video
// we send it with SSRC ours (and on which it sends video with SSRC its)
// into what the other leg's browser gets, whose video has SSRC srcSSRC
// there and to which we send with SSRC srcOurs: PLI, FIR, NACK and REMB
// about ours, report blocks about ours, and the browser's sender reports
// about its own video (for lip sync and round trips). The rest (about
// audio, about other SSRCs) stays on its leg.
func relayFeedback(pkts []rtcp.Packet, ours, its, srcOurs, srcSSRC uint32) []rtcp.Packet {
	var out []rtcp.Packet
	var blocks []rtcp.ReceptionReport
	addBlocks := func(rs []rtcp.ReceptionReport) {
		for _, r := range rs {
			if r.SSRC == ours && srcSSRC != 0 {
				r.SSRC = srcSSRC
				blocks = append(blocks, r)
			}
		}
	}
	for _, p := range pkts {
		switch r := p.(type) {
		case *rtcp.PictureLossIndication:
			if r.MediaSSRC == ours && srcSSRC != 0 {
				out = append(out, &rtcp.PictureLossIndication{SenderSSRC: srcOurs, MediaSSRC: srcSSRC})
			}
		case *rtcp.FullIntraRequest:
			for _, e := range r.FIR {
				if e.SSRC == ours && srcSSRC != 0 {
					out = append(out, &rtcp.FullIntraRequest{SenderSSRC: srcOurs, MediaSSRC: srcSSRC,
						FIR: []rtcp.FIREntry{{SSRC: srcSSRC, SequenceNumber: e.SequenceNumber}}})
				}
			}
		case *rtcp.TransportLayerNack:
			if r.MediaSSRC == ours && srcSSRC != 0 {
				out = append(out, &rtcp.TransportLayerNack{SenderSSRC: srcOurs, MediaSSRC: srcSSRC, Nacks: r.Nacks})
			}
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			for _, s := range r.SSRCs {
				if s == ours && srcSSRC != 0 {
					out = append(out, &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: srcOurs, Bitrate: r.Bitrate, SSRCs: []uint32{srcSSRC}})
					break
				}
			}
		case *rtcp.ReceiverReport:
			addBlocks(r.Reports)
		case *rtcp.SenderReport:
			addBlocks(r.Reports)
			if r.SSRC == its && its != 0 {
				out = append(out, &rtcp.SenderReport{SSRC: srcOurs, NTPTime: r.NTPTime, RTPTime: r.RTPTime,
					PacketCount: r.PacketCount, OctetCount: r.OctetCount})
			}
		}
	}
	if len(out) == 0 && len(blocks) == 0 {
		return nil
	}
	// A compound packet starts with a report (RFC 3550 §6.1).
	return append([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: srcOurs, Reports: blocks}}, out...)
}

// sendFeedback sends RTCP to the browser on the video's sending context.
func (c *liteConn) sendFeedback(pkts []rtcp.Packet) {
	v := &c.video
	peer := c.peer.Load()
	if peer == nil || v.m.Load() == nil {
		return
	}
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tx == nil {
		return
	}
	out, err := v.tx.EncryptRTCP(v.out[:0], b, &v.rhdr)
	if err != nil {
		return
	}
	if _, err := c.conn.WriteToUDPAddrPort(out, *peer); err == nil {
		v.feedbackOut.Add(1)
	}
}

// setVideoTx installs the video's sending context once DTLS is up.
func (c *liteConn) setVideoTx(tx *srtp.Context) {
	c.video.mu.Lock()
	c.video.tx = tx
	c.video.mu.Unlock()
}

func (c *liteConn) videoStats() VideoStats {
	v := &c.video
	return VideoStats{Received: v.received.Load(), Sent: v.sent.Load(), Dropped: v.dropped.Load(),
		FeedbackIn: v.feedbackIn.Load(), FeedbackOut: v.feedbackOut.Load()}
}
