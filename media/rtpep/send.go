package rtpep

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
)

// gapForMarker is the pause in written frames after which the next packet
// starts a new talkspurt (marker bit, timestamp jumps by the pause).
const gapForMarker = 3 * media.FrameDuration

// sender is the send path: one SSRC whose sequence and timestamp space
// audio and telephone-event packets share.
type sender struct {
	mu sync.Mutex

	on          bool           // negotiated, direction allows sending and the peer has an address
	sdpDest     netip.AddrPort // from the peer's SDP
	dest        netip.AddrPort // where packets go: sdpDest, or the latched source
	latched     bool
	rtcpDest    netip.AddrPort
	rtcpLatched bool

	codec int    // index into codecSet, -1 before negotiation
	pt    uint8  // the codec's payload type for the peer
	te    int    // the peer's telephone-event payload type, -1 if none
	clock uint32 // the codec's RTP clock rate, telephone-event's too
	step  uint32 // timestamp advance per 20 ms frame

	ssrc       uint32
	seq        uint16
	ts         uint32        // timestamp of the next audio frame
	started    bool          // a frame was sent since the stream (re)started
	marker     bool          // the next audio packet starts a talkspurt
	last       time.Duration // when the clock was last advanced
	inEvent    bool          // a DTMF event is playing: audio is suppressed
	eventStart time.Duration

	hdr rtp.Header
	buf [maxPacket]byte

	packets, octets uint32 // for RTCP SR
	srPackets       uint32 // packets at the last SR
	lastSR          time.Duration
}

func (t *sender) init() {
	t.codec, t.te = -1, -1
	t.ssrc = rand.Uint32()
	t.seq = uint16(rand.Uint32())
	t.ts = rand.Uint32()
	t.hdr.Version = 2
	t.hdr.SSRC = t.ssrc
}

// apply installs a negotiation of codec d. It reports whether an earlier
// latch was dropped because the peer's SDP address changed.
func (t *sender) apply(n negotiation, d codecDesc) (relatched bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n.dest != t.sdpDest && n.dest.IsValid() {
		if t.sdpDest.IsValid() && t.latched {
			t.latched, t.rtcpLatched, relatched = false, false, true
		}
		t.sdpDest = n.dest
		if !t.latched {
			t.dest = n.dest
		}
		if !t.rtcpLatched {
			t.rtcpDest = n.rtcp
		}
	}
	was := t.on
	t.on = n.sends()
	if t.on && !was {
		t.started = false // resume: new talkspurt
	}
	t.codec, t.pt, t.te = n.codec, n.pt, n.te
	t.clock, t.step = d.clock, d.step
	return relatched
}

// latch makes src the destination on the first accepted packet (symmetric
// RTP, RFC 4961). Afterwards only packets from src are accepted. It
// reports whether the packet is accepted and whether it latched now.
func (t *sender) latch(src netip.AddrPort) (accept, latchedNow bool, sdp netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.latched {
		return src == t.dest, false, t.sdpDest
	}
	t.latched, t.dest = true, src
	if !t.rtcpLatched && src.Port() < 65535 {
		t.rtcpDest = netip.AddrPortFrom(src.Addr(), src.Port()+1)
	}
	return true, true, t.sdpDest
}

// advance moves the timestamp clock to now: after a pause in the stream
// it jumps by the pause and marks a new talkspurt. t.mu is held.
func (t *sender) advance(now time.Duration) {
	if gap := now - t.last; t.last > 0 && gap >= gapForMarker {
		frames := (gap + media.FrameDuration/2) / media.FrameDuration
		t.ts += uint32(frames-1) * t.step
		t.marker = true
	}
	if !t.started {
		t.started, t.marker = true, true
	}
	t.last = now
}

// send writes the header in front of the n payload bytes already in
// t.buf and sends the packet. t.mu is held.
func (e *Endpoint) send(pt uint8, ts uint32, marker bool, n int) error {
	t := &e.tx
	t.hdr.PayloadType, t.hdr.SequenceNumber, t.hdr.Timestamp, t.hdr.Marker = pt, t.seq, ts, marker
	if _, err := t.hdr.MarshalTo(t.buf[:rtpHdrSize]); err != nil {
		return fmt.Errorf("rtp header: %w", err)
	}
	t.seq++
	t.packets++
	t.octets += uint32(n)
	if _, err := e.rtpConn.WriteToUDPAddrPort(t.buf[:rtpHdrSize+n], t.dest); err != nil {
		return fmt.Errorf("send rtp to %s: %w", t.dest, err)
	}
	e.stats.packetsSent.Add(1)
	e.stats.octetsSent.Add(uint64(n))
	return nil
}

// audioSink is the Endpoint seen as its send sink.
type audioSink Endpoint

var (
	_ media.Sink        = (*audioSink)(nil)
	_ media.PayloadSink = (*audioSink)(nil)
)

// Rate is 8000 Hz, whatever the codec.
func (s *audioSink) Rate() int { return pcmRate }

func (s *audioSink) String() string {
	e := (*Endpoint)(s)
	e.tx.mu.Lock()
	defer e.tx.mu.Unlock()
	if e.tx.codec < 0 {
		return "RTP(unnegotiated)"
	}
	return fmt.Sprintf("%s(encode) -> RTP(pt=%d)", e.set.codecs.desc[e.tx.codec].name, e.tx.pt)
}

// WriteFrame encodes a 20 ms frame and sends it. Frames written before
// the peer's address is known, on hold or during a DTMF event are dropped.
func (s *audioSink) WriteFrame(pcm []int16) error {
	e := (*Endpoint)(s)
	if len(pcm) != frameSize {
		return fmt.Errorf("rtp write frame: %d samples: %w", len(pcm), ErrFrameSize)
	}
	now := e.since()
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok, err := e.sendable(now); !ok {
		return err
	}
	n, err := e.set.codecs.enc[t.codec].Encode(t.buf[rtpHdrSize:], pcm)
	if err != nil {
		return fmt.Errorf("rtp write frame: %w", err)
	}
	return e.sendAudio(n, t.step)
}

// WritePayload sends a payload already encoded with codec when that is
// the negotiated codec and a G.711 one; otherwise it returns false (Opus
// is always encoded here: its encoder keeps state between frames).
func (s *audioSink) WritePayload(codec string, payload []byte) (bool, error) {
	e := (*Endpoint)(s)
	now := e.since()
	t := &e.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.codec < 0 || !e.set.codecs.desc[t.codec].relay ||
		!strings.EqualFold(codec, e.set.codecs.desc[t.codec].name) || len(payload) > len(t.buf)-rtpHdrSize {
		return false, nil
	}
	if ok, err := e.sendable(now); !ok {
		return true, err
	}
	n := copy(t.buf[rtpHdrSize:], payload)
	return true, e.sendAudio(n, uint32(n)) // G.711: one byte per sample
}

// sendable advances the clock and reports whether an audio frame may be
// sent now; when not, the frame is counted as dropped. t.mu is held.
func (e *Endpoint) sendable(now time.Duration) (bool, error) {
	t := &e.tx
	switch {
	case e.closed.Load():
		return false, fmt.Errorf("rtp write frame: %w", ErrClosed)
	case !t.on || t.codec < 0:
		e.stats.framesDropped.Add(1)
		return false, nil
	case t.inEvent:
		t.last = now
		e.stats.framesDropped.Add(1)
		return false, nil
	}
	t.advance(now)
	return true, nil
}

// sendAudio sends n payload bytes in t.buf as the next audio packet
// covering samples. t.mu is held.
func (e *Endpoint) sendAudio(n int, samples uint32) error {
	t := &e.tx
	ts, marker := t.ts, t.marker
	t.ts += samples
	t.marker = false
	return e.send(t.pt, ts, marker, n)
}

// sendReport sends an RTCP sender report when packets were sent since the
// last one and the interval has passed.
func (e *Endpoint) sendReport(now time.Duration) {
	t := &e.tx
	t.mu.Lock()
	if !t.on || t.packets == t.srPackets || now-t.lastSR < e.srInterval || !t.rtcpDest.IsValid() {
		t.mu.Unlock()
		return
	}
	sr := rtcp.SenderReport{
		SSRC:        t.ssrc,
		NTPTime:     ntpTime(time.Now()),
		RTPTime:     t.ts,
		PacketCount: t.packets,
		OctetCount:  t.octets,
	}
	dest := t.rtcpDest
	t.srPackets, t.lastSR = t.packets, now
	t.mu.Unlock()
	b, err := sr.Marshal()
	if err != nil {
		e.log.Debug("rtcp sender report", "err", err)
		return
	}
	if _, err := e.rtcpConn.WriteToUDPAddrPort(b, dest); err != nil {
		e.log.Debug("rtcp send", "dest", dest.String(), "err", err)
		return
	}
	e.stats.rtcpSent.Add(1)
}

// ntpTime converts t to the 64-bit NTP format of RTCP (RFC 3550 §4).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
