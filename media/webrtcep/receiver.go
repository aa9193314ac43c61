package webrtcep

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media"
)

// receiver is the state shared by the RTP read goroutine (push) and the
// playout goroutine (pop).
type receiver struct {
	mu       sync.Mutex
	jb       *media.JitterBuffer
	table    ptTable
	primary  kind // first audio codec of our SDP, for String
	cur      kind // codec of the frames in jb
	curPT    uint8
	ssrc     uint32
	haveSSRC bool
	dtmf     media.DTMFDetector
}

func (r *receiver) init(depth int) {
	r.jb = media.NewJitterBuffer(depth)
}

// setTable installs the payload types we receive (from our SDP).
func (r *receiver) setTable(t *ptTable, primary kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.table = *t
	r.primary = primary
	if r.cur != kindNone && r.table[r.curPT].kind != r.cur {
		r.jb.Reset()
		r.cur = kindNone
	}
}

// setPrimary sets the codec the peer is expected to send.
func (r *receiver) setPrimary(k kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.primary = k
}

// classify returns what payload type pt carries.
func (r *receiver) classify(pt uint8) ptEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.table[pt&0x7f]
}

// push files one packet: audio into the jitter buffer, telephone-event
// into the DTMF detector. It returns the digits completed, in evs.
func (r *receiver) push(h *rtp.Header, payload []byte, pe ptEntry, now time.Duration, evs *[2]media.Event) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.haveSSRC || h.SSRC != r.ssrc {
		if r.haveSSRC { // new source: its sequence space starts afresh
			r.jb.Reset()
			r.dtmf = media.DTMFDetector{}
		}
		r.ssrc, r.haveSSRC = h.SSRC, true
	}
	if pe.kind == kindTE {
		ev, err := media.ParseDTMF(payload)
		if err != nil {
			return 0
		}
		return r.dtmf.Feed(h.Timestamp, ev, pe.clock, now, evs)
	}
	if pe.kind != r.cur || h.PayloadType != r.curPT {
		if r.cur != kindNone {
			r.jb.Reset()
		}
		r.cur, r.curPT = pe.kind, h.PayloadType
	}
	r.jb.Push(h.SequenceNumber, h.Timestamp, payload)
	return 0
}

// pop takes the next frame from the jitter buffer, copying it into dst.
// more reports whether frames remain held (for FEC look-ahead).
func (r *receiver) pop(dst []byte) (payload []byte, k kind, ok, lost, more bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok, lost := r.jb.Pop()
	if ok {
		payload = dst[:copy(dst, p)]
	}
	return payload, r.cur, ok, lost, r.jb.Len() > 0
}

// readLoop is the buffer space of one RTP read goroutine.
type readLoop struct {
	buf [maxPacket]byte
	hdr rtp.Header
	evs [2]media.Event
}

// onTrack starts reading a remote audio track, and the receiver's RTCP
// once per endpoint.
func (e *Endpoint) onTrack(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	e.log.Debug("webrtc remote track", "ssrc", uint32(tr.SSRC()), "codec", tr.Codec().MimeType)
	if !e.goTracked(func() { e.readRTP(tr) }) {
		return
	}
	e.life.Lock()
	start := !e.rtcpReading
	e.rtcpReading = true
	e.life.Unlock()
	if start {
		e.goTracked(func() { e.readRTCP(rcv.Read) })
	}
}

// readRTP reads one remote track into a reused buffer until it ends.
func (e *Endpoint) readRTP(tr *webrtc.TrackRemote) {
	rl := &readLoop{}
	for {
		n, _, err := tr.Read(rl.buf[:])
		if err != nil {
			if e.ended(err) {
				return
			}
			e.stats.stray.Add(1)
			continue
		}
		e.handleRTP(rl, rl.buf[:n])
	}
}

// ended reports whether a read error means the stream is over.
func (e *Endpoint) ended(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) {
		return true
	}
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// handleRTP processes one decrypted packet. It allocates nothing for a
// well-formed packet.
func (e *Endpoint) handleRTP(rl *readLoop, pkt []byte) {
	h := &rl.hdr
	hl, err := h.Unmarshal(pkt)
	if err != nil || h.Version != 2 {
		e.stats.stray.Add(1)
		return
	}
	payload, ok := media.RTPPayload(pkt, hl, h.Padding)
	if !ok {
		e.stats.stray.Add(1)
		return
	}
	pe := e.rx.classify(h.PayloadType)
	if pe.kind == kindNone {
		e.stats.stray.Add(1)
		return
	}
	now := e.since()
	e.lastRTP.Store(int64(now))
	e.timedOut.Store(false)
	e.stats.packetsReceived.Add(1)
	for i := range e.rx.push(h, payload, pe, now, &rl.evs) {
		e.stats.dtmfReceived.Add(1)
		e.emit(rl.evs[i])
	}
}

// readRTCP drains an RTCP reader so the interceptors never stall.
func (e *Endpoint) readRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	var buf [maxPacket]byte
	for {
		if _, _, err := read(buf[:]); err != nil {
			if e.ended(err) {
				return
			}
			continue
		}
		e.stats.rtcpReceived.Add(1)
	}
}

// readSenderRTCP drains the RTCP for our sender (receiver reports).
func (e *Endpoint) readSenderRTCP() {
	defer e.wg.Done()
	e.readRTCP(e.sender.Read)
}
