package rtpep

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
)

// maxPopsPerTick bounds the packets one tick may consume to fill a frame
// (several for a peer sending 10 ms packets).
const maxPopsPerTick = 8

// ptCodec maps a payload type we receive to a codec index.
type ptCodec struct {
	pt    uint8
	codec int
}

// ptTE is a telephone-event payload type we receive with its clock rate.
type ptTE struct {
	pt    uint8
	clock uint32
}

// maxTE bounds the telephone-event payload types received at once: one
// per clock rate (8000, 48000).
const maxTE = 2

// receiver is the state shared by the RTP receive goroutine (Push) and
// the playout goroutine (Pop).
type receiver struct {
	mu        sync.Mutex
	jb        *media.JitterBuffer
	pts       [128]int8 // payload type -> codec index + 1; 0: not ours
	te        [maxTE]ptTE
	nte       int // telephone-event payload types in te
	primary   int // first negotiated codec, for String; -1 if none
	primaryPT uint8
	cur       int // codec of the frames in jb, -1 if none
	curPT     uint8
	ssrc      uint32
	haveSSRC  bool
	dtmf      media.DTMFDetector
	cut       atomic.Bool // audio is cut through (relayed on arrival), the buffer bypassed
}

func (r *receiver) init(depth int) {
	r.jb = media.NewJitterBuffer(depth)
	r.primary, r.cur = -1, -1
}

// setTables sets the payload types we accept.
func (r *receiver) setTables(recv []ptCodec, te []ptTE) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pts = [128]int8{}
	for _, p := range recv {
		if r.pts[p.pt&0x7f] == 0 {
			r.pts[p.pt&0x7f] = int8(p.codec + 1)
		}
	}
	r.nte = copy(r.te[:], te)
	r.primary = -1
	if len(recv) > 0 {
		r.primary, r.primaryPT = recv[0].codec, recv[0].pt
	}
	if r.cur >= 0 && int(r.pts[r.curPT]) != r.cur+1 {
		r.jb.Reset()
		r.cur = -1
	}
}

// classify returns the codec index for an audio payload type, -1 and
// the event clock for telephone-event, and false for a payload type we
// did not negotiate.
func (r *receiver) classify(pt uint8) (codec int, teClock uint32, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, te := range r.te[:r.nte] {
		if te.pt == pt {
			return -1, te.clock, true
		}
	}
	if c := r.pts[pt&0x7f]; c > 0 {
		return int(c - 1), 0, true
	}
	return 0, 0, false
}

// push files one packet: audio into the jitter buffer, telephone-event
// (codec -1, at teClock) into the DTMF detector. It returns the digits
// completed, in evs.
func (r *receiver) push(h *rtp.Header, payload []byte, codec int, teClock uint32, now time.Duration, evs *[2]media.Event) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.haveSSRC || h.SSRC != r.ssrc {
		if r.haveSSRC { // new source: its sequence space starts afresh
			r.jb.Reset()
			r.dtmf = media.DTMFDetector{}
		}
		r.ssrc, r.haveSSRC = h.SSRC, true
	}
	if codec < 0 {
		ev, err := media.ParseDTMF(payload)
		if err != nil {
			return 0
		}
		return r.dtmf.Feed(h.Timestamp, ev, teClock, now, evs)
	}
	if codec != r.cur || h.PayloadType != r.curPT {
		if r.cur >= 0 {
			r.jb.Reset()
		}
		r.cur, r.curPT = codec, h.PayloadType
	}
	r.jb.Push(h.SequenceNumber, h.Timestamp, payload)
	return 0
}

// pop takes the next frame from the jitter buffer, copying it into dst.
// For a lost frame with the next one held, it copies that one, still
// held, into next: its Opus in-band FEC data may recover the loss.
func (r *receiver) pop(dst, next []byte) (payload, fec []byte, codec int, ok, lost bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok, lost := r.jb.Pop()
	if ok {
		payload = dst[:copy(dst, p)]
	}
	if lost {
		if p, held := r.jb.Peek(); held {
			fec = next[:copy(next, p)]
		}
	}
	return payload, fec, r.cur, ok, lost
}

// recvLoop is the buffer space of the RTP receive goroutine.
type recvLoop struct {
	buf [maxPacket]byte
	hdr rtp.Header
	evs [2]media.Event
}

func (e *Endpoint) receiveRTP() {
	defer e.wg.Done()
	for {
		n, src, err := e.rtpConn.ReadFromUDPAddrPort(e.rl.buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-e.done:
				return
			default:
				continue
			}
		}
		e.handleRTP(e.rl.buf[:n], netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	}
}

// handleRTP processes one received datagram. It allocates nothing for a
// well-formed packet.
func (e *Endpoint) handleRTP(pkt []byte, src netip.AddrPort) {
	h := &e.rl.hdr
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
	codec, teClock, ok := e.rx.classify(h.PayloadType)
	if !ok {
		e.stats.stray.Add(1)
		return
	}
	accept, latched, sdpDest := e.tx.latch(src)
	if !accept {
		e.stats.stray.Add(1)
		return
	}
	if latched {
		e.log.Info("rtp latched to peer source", "source", src.String(), "sdp", sdpDest.String())
	}
	now := e.since()
	e.lastRTP.Store(int64(now))
	e.timedOut.Store(false)
	e.stats.packetsReceived.Add(1)
	e.stats.octetsReceived.Add(uint64(len(payload)))
	if codec >= 0 && e.cutThrough(codec, payload) {
		return
	}
	for i := range e.rx.push(h, payload, codec, teClock, now, &e.rl.evs) {
		e.stats.dtmfReceived.Add(1)
		e.emit(e.rl.evs[i])
	}
}

func (e *Endpoint) receiveRTCP() {
	defer e.wg.Done()
	var buf [maxPacket]byte
	for {
		n, src, err := e.rtcpConn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-e.done:
				return
			default:
				continue
			}
		}
		if n < 8 || buf[0]>>6 != 2 {
			continue
		}
		e.stats.rtcpReceived.Add(1)
		e.tx.latchRTCP(netip.AddrPortFrom(src.Addr().Unmap(), src.Port()))
	}
}

// latchRTCP sends our reports to where the peer's RTCP comes from.
func (t *sender) latchRTCP(src netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.rtcpLatched && t.dest.IsValid() && src.Addr() == t.dest.Addr() {
		t.rtcpDest, t.rtcpLatched = src, true
	}
}

// player is the state of the playout goroutine.
type player struct {
	pkt  [maxPacket]byte
	next [maxPacket]byte // the packet after a loss, for FEC
	pcm  [maxPacket + frameSize]int16
	n    int // samples decoded in pcm and not yet written
	evs  [2]media.Event
}

func (e *Endpoint) playoutLoop() {
	defer e.wg.Done()
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-tk.C:
			e.tick()
		}
	}
}

// tick is one 20 ms step of the playout clock.
func (e *Endpoint) tick() {
	now := e.since()
	e.playout()
	e.checkTimeout(now)
	e.checkDTMF(now)
	e.sendReport(now)
}

// playout writes the next 20 ms frame to the output: the payload itself
// to a PayloadSink that takes the codec, else decoded (or concealed).
func (e *Endpoint) playout() {
	out := e.output.Load()
	pl := &e.pl
	if out == nil {
		e.rx.pop(pl.pkt[:], nil) // nobody listens: keep the buffer moving
		pl.n = 0
		return
	}
	for i := 0; pl.n < frameSize && i < maxPopsPerTick; i++ {
		payload, fec, codec, ok, lost := e.rx.pop(pl.pkt[:], pl.next[:])
		if (!ok && !lost) || codec < 0 {
			break
		}
		if ok && pl.n == 0 && out.ps != nil && e.set.codecs.desc[codec].relay &&
			len(payload) == frameSize && e.relay(out.ps, codec, payload) {
			return
		}
		fd := e.set.codecs.fec[codec]
		var n int
		var err error
		if lost && fd != nil && fec != nil {
			n, err = fd.DecodeFEC(pl.pcm[pl.n:], fec) // conceals when fec has no FEC data
		} else {
			n, err = e.set.codecs.dec[codec].Decode(pl.pcm[pl.n:], payload) // nil payload: conceal
		}
		if err != nil {
			e.stats.outputErrors.Add(1)
			continue
		}
		pl.n += n
		switch {
		case ok:
			e.stats.decoded.Add(1)
			e.relaying.Store(false)
		case fd != nil && fec != nil:
			e.stats.recovered.Add(1)
		default:
			e.stats.concealed.Add(1)
		}
	}
	if pl.n < frameSize {
		return
	}
	if err := out.sink.WriteFrame(pl.pcm[:frameSize]); err != nil {
		e.stats.outputErrors.Add(1)
	}
	pl.n = copy(pl.pcm[:], pl.pcm[frameSize:pl.n])
}

// cutThrough relays a 20 ms G.711 payload to the output on arrival when
// the output takes it undecoded (the same codec on both legs): no jitter
// buffer, no playout tick, so relaying adds no delay, and the far end's
// own jitter buffer absorbs the network's (as rtpengine relays). Anything
// else (another codec or packet size, a prompt holding the output, nobody
// listening) goes through the jitter buffer and the playout clock. Frames
// still buffered when relaying starts are dropped: sent after the new
// ones they would arrive out of order.
func (e *Endpoint) cutThrough(codec int, payload []byte) bool {
	out := e.output.Load()
	if out == nil || out.ps == nil || !e.set.codecs.desc[codec].relay || len(payload) != frameSize ||
		!e.relay(out.ps, codec, payload) {
		e.rx.setCut(false)
		return false
	}
	e.rx.setCut(true)
	return true
}

// setCut records whether audio is cut through; starting to, it empties
// the jitter buffer (the next buffered packet starts a new sequence). It
// is called for every audio packet and locks only on a change.
func (r *receiver) setCut(on bool) {
	if r.cut.Load() == on {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if on && !r.cut.Load() {
		r.jb.Reset()
	}
	r.cut.Store(on)
}

// relay passes a payload undecoded when the sink takes the codec.
func (e *Endpoint) relay(ps media.PayloadSink, codec int, payload []byte) bool {
	took, err := ps.WritePayload(e.set.codecs.desc[codec].name, payload)
	if !took {
		return false
	}
	if err != nil {
		e.stats.outputErrors.Add(1)
	}
	e.stats.relayed.Add(1)
	e.relaying.Store(true)
	return true
}

// checkTimeout reports EventTimeout once per outage.
func (e *Endpoint) checkTimeout(now time.Duration) {
	if e.set.timeout <= 0 || !e.recvOn.Load() {
		return
	}
	last := e.lastRTP.Load()
	if last == 0 || now-time.Duration(last) < e.set.timeout || e.timedOut.Swap(true) {
		return
	}
	e.log.Info("rtp timeout", "after", e.set.timeout.String())
	e.emit(media.Event{Kind: media.EventTimeout})
}

// checkDTMF reports a digit whose end packets never arrived.
func (e *Endpoint) checkDTMF(now time.Duration) {
	e.rx.mu.Lock()
	n := e.rx.dtmf.Expire(now, &e.pl.evs)
	e.rx.mu.Unlock()
	for i := range n {
		e.stats.dtmfReceived.Add(1)
		e.emit(e.pl.evs[i])
	}
}
