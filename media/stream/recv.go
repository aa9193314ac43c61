package stream

import (
	"fmt"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
)

// pcmSize is what the PCM buffer of codec c at rate must hold: a partial
// frame plus the longest packet decoded at once (120 ms of Opus, a
// maximal G.711 payload).
func pcmSize(c media.Codec, rate int) int {
	if c == media.CodecOpus {
		return 7 * rate / 50
	}
	return 2 * 160 // grown by play for longer packets
}

// Packet is one received RTP packet, parsed by Parse. A reader keeps one
// and reuses it for every packet.
type Packet struct {
	Header  rtp.Header
	Payload []byte // aliases the buffer given to Parse
	entry   ptEntry
}

// receiver is the receive side, owned by the reader goroutine.
type receiver struct {
	jb       *media.JitterBuffer
	table    *PTTable // the table the buffered packets were classified with
	cur      media.Codec
	curPT    uint8
	ssrc     uint32
	haveSSRC bool
	dtmf     media.DTMFDetector
	bypass   bool          // packets do not go through jb (relayed, or nobody listens)
	gapAt    time.Duration // when the reader first saw a gap at the head of jb; 0: none
	armed    time.Duration // the read deadline set, since epoch; 0: none

	opus       *opus.Decoder // at opusRate, created on first use
	opusRate   int
	pcmu, pcma codecs.Decoder

	pcm     []int16     // sized for the codec and rate received (pcmSize), made on first use
	n       int         // samples in pcm not yet written
	pcmKind media.Codec // codec of those samples
	pcmRate int
	evs     [2]media.Event
	q       quality
}

func (r *receiver) init(depth int) {
	r.jb = media.NewArrivalBuffer(depth)
}

// Parse parses pkt into p and classifies its payload type. It returns
// false, counting a stray packet, for a malformed packet or a payload
// type we did not negotiate. It allocates nothing.
func (s *Stream) Parse(pkt []byte, p *Packet) bool {
	hl, err := p.Header.Unmarshal(pkt)
	if err != nil || p.Header.Version != 2 {
		s.stats.stray.Add(1)
		return false
	}
	payload, ok := media.RTPPayload(pkt, hl, p.Header.Padding)
	if !ok {
		s.stats.stray.Add(1)
		return false
	}
	t := s.table.Load()
	if t == nil { // nothing negotiated yet
		s.stats.stray.Add(1)
		return false
	}
	e := t.e[p.Header.PayloadType&0x7f]
	if e == (ptEntry{}) {
		s.stats.stray.Add(1)
		return false
	}
	p.Payload, p.entry = payload, e
	return true
}

// Stray counts a packet the transport refused (not from the latched source).
func (s *Stream) Stray() { s.stats.stray.Add(1) }

// Receive handles one packet Parse accepted, on the reader goroutine:
// a digit to the detector, audio relayed or decoded to the output now.
func (s *Stream) Receive(p *Packet) {
	now := s.since()
	r := &s.rx
	s.lastRTP.Store(int64(now))
	s.firstIn.Mark()
	if s.timedOut.Load() {
		s.timedOut.Store(false)
	}
	s.stats.packetsReceived.Add(1)
	s.stats.octetsReceived.Add(uint64(len(p.Payload)))
	h := &p.Header
	if t := s.table.Load(); t != r.table {
		r.table = t
		if r.cur != media.CodecNone && t.e[r.curPT].codec != r.cur {
			r.restart()
			r.cur = media.CodecNone
		}
	}
	if !r.haveSSRC || h.SSRC != r.ssrc {
		if r.haveSSRC { // a new source: its sequence space starts afresh
			r.restart()
			r.dtmf = media.DTMFDetector{}
			r.q.restart()
		}
		r.ssrc, r.haveSSRC = h.SSRC, true
	}
	r.q.seq(h.SequenceNumber)
	if p.entry.te {
		if ev, err := media.ParseDTMF(p.Payload); err == nil {
			s.report(r.dtmf.Feed(h.Timestamp, ev, p.entry.clock, now, &r.evs))
		}
		s.rearm(now, false)
		return
	}
	if c := p.entry.codec; c != r.cur || h.PayloadType != r.curPT {
		if r.cur != media.CodecNone {
			r.restart()
		}
		r.cur, r.curPT = c, h.PayloadType
		s.recvInfo.Store(uint32(c)<<8 | uint32(h.PayloadType))
	}
	r.q.audio(h.Timestamp, p.entry.clock, now)
	s.audio(p, now)
	s.rearm(now, false)
}

// audio relays, decodes or drops one audio packet.
func (s *Stream) audio(p *Packet, now time.Duration) {
	r := &s.rx
	out := s.output.Load()
	if out == nil { // nobody listens
		r.setBypass(true)
		return
	}
	if out.ps != nil && out.ps.Takes(r.cur) {
		r.setBypass(true)
		took, err := out.ps.WritePayload(r.cur, p.Payload)
		if took {
			if err != nil {
				s.stats.outputErrors.Add(1)
			}
			s.stats.relayed.Add(1)
			if !s.relaying.Load() {
				s.relaying.Store(true)
			}
			return
		}
	}
	r.setBypass(false)
	r.jb.Push(p.Header.SequenceNumber, p.Header.Timestamp, p.Payload)
	s.drain(out, now)
}

// setBypass records whether packets skip the buffer; a change empties
// it: frames held while relaying started would go out of order, and
// after bypassing, the next buffered packet starts a new sequence.
func (r *receiver) setBypass(on bool) {
	if r.bypass != on {
		r.bypass = on
		r.restart()
	}
}

// restart forgets the buffered packets and the gap being waited for.
func (r *receiver) restart() {
	r.jb.Reset()
	r.gapAt = 0
}

// drain plays every frame the buffer has in order. A gap with later
// packets held waits gapWait for the late packet, then is concealed.
func (s *Stream) drain(out *output, now time.Duration) {
	r := &s.rx
	// Bounded: a turn that does not return declares one lost frame, and
	// the held packets lie within the window.
	for range r.jb.Depth() + 1 {
		for r.jb.Ready() {
			payload, ok, lost := r.jb.Pop()
			s.play(out, payload, ok, lost)
		}
		if r.jb.Len() == 0 {
			r.gapAt = 0
			return
		}
		if r.gapAt == 0 {
			r.gapAt = now
		}
		if now-r.gapAt < s.gapWait {
			return
		}
		payload, ok, lost := r.jb.Pop() // the gap: lost
		s.play(out, payload, ok, lost)
	}
}

// play decodes one frame (or conceals a lost one, from the next packet's
// Opus FEC data when it is held) and writes whole 20 ms frames out.
func (s *Stream) play(out *output, payload []byte, ok, lost bool) {
	if !ok && !lost {
		return
	}
	r := &s.rx
	c := r.cur
	rate := 8000
	if c == media.CodecOpus {
		rate = int(s.rate.Load())
	}
	if r.pcmKind != c || r.pcmRate != rate {
		r.n, r.pcmKind, r.pcmRate = 0, c, rate
		if need := pcmSize(c, rate); cap(r.pcm) < need {
			r.pcm = make([]int16, need) // once per codec and rate
		}
	}
	if c != media.CodecOpus && cap(r.pcm) < 160+len(payload) {
		// A G.711 packet decodes to a sample a byte, after fewer than 160
		// samples left over; a concealed frame is as long as the longest
		// packet so far. Grown once for the longest ptime.
		pcm := make([]int16, 160+len(payload))
		copy(pcm, r.pcm[:r.n])
		r.pcm = pcm
	}
	n, err := s.decode(c, rate, payload, ok)
	if err != nil {
		s.stats.outputErrors.Add(1)
		return
	}
	r.n += n
	frame := rate / 50
	off := 0
	for ; r.n-off >= frame; off += frame {
		if err := out.sink.WriteFrame(r.pcm[off : off+frame]); err != nil {
			s.stats.outputErrors.Add(1)
		}
	}
	if off > 0 {
		r.n = copy(r.pcm, r.pcm[off:r.n])
	}
}

// decode decodes payload (ok) or conceals one frame into r.pcm[r.n:].
func (s *Stream) decode(c media.Codec, rate int, payload []byte, ok bool) (int, error) {
	r := &s.rx
	dst := r.pcm[r.n:]
	var dec codecs.Decoder
	switch c {
	case media.CodecOpus:
		if r.opus == nil || r.opusRate != rate {
			d, err := opus.NewDecoder(opus.Config{Rate: rate})
			if err != nil {
				return 0, fmt.Errorf("opus decoder: %w", err)
			}
			r.opus, r.opusRate = d, rate
		}
		if !ok {
			if next, held := r.jb.Peek(); held {
				n, err := r.opus.DecodeFEC(dst, next) // conceals when next has no FEC data
				if err == nil {
					s.stats.recovered.Add(1)
				}
				return n, err
			}
		}
		dec = r.opus
	case media.CodecPCMU:
		if r.pcmu == nil { // made on first use: a relayed stream decodes nothing
			r.pcmu, _ = g711.NewDecoder(g711.PCMU) // the names are valid
		}
		dec = r.pcmu
	case media.CodecPCMA:
		if r.pcma == nil {
			r.pcma, _ = g711.NewDecoder(g711.PCMA)
		}
		dec = r.pcma
	default:
		return 0, nil
	}
	if !ok {
		payload = nil // conceal
	}
	n, err := dec.Decode(dst, payload)
	switch {
	case err != nil:
	case ok:
		s.stats.decoded.Add(1)
		if s.relaying.Load() {
			s.relaying.Store(false)
		}
	default:
		s.stats.concealed.Add(1)
	}
	return n, err
}

// report emits the n digits in r.evs.
func (s *Stream) report(n int) {
	for i := range n {
		s.stats.dtmfReceived.Add(1)
		s.emit(s.rx.evs[i])
	}
}

// Wake is what the reader calls when its read returned a timeout error
// (the deadline the stream set): it conceals a gap that waited long
// enough, reports a digit whose end never came, and the RTP timeout.
func (s *Stream) Wake() {
	now := s.since()
	r := &s.rx
	if r.jb.Len() > 0 {
		if out := s.output.Load(); out != nil && !r.bypass {
			s.drain(out, now)
		} else {
			r.restart()
		}
	}
	s.report(r.dtmf.Expire(now, &r.evs))
	s.checkTimeout(now)
	s.rearm(now, true)
}

// checkTimeout reports EventTimeout once per outage.
func (s *Stream) checkTimeout(now time.Duration) {
	if s.timeout <= 0 || !s.recvOn.Load() {
		return
	}
	last := s.lastRTP.Load()
	if last == 0 || now-time.Duration(last) < s.timeout || s.timedOut.Swap(true) {
		return
	}
	s.log.Info("rtp timeout", "after", s.timeout.String())
	s.noteFailure("no RTP for " + s.timeout.String())
	s.emit(media.Event{Kind: media.EventTimeout})
}

// Fail reports media.EventTimeout once, as the RTP timeout does, when
// the transport cannot carry media (no ICE, DTLS failed): the leg ends,
// reason logged.
func (s *Stream) Fail(reason string) {
	if s.timedOut.Swap(true) {
		return
	}
	s.log.Warn("media failed", "reason", reason)
	s.noteFailure(reason)
	s.emit(media.Event{Kind: media.EventTimeout})
}

// noteFailure keeps the first RTP timeout or media failure, and when.
func (s *Stream) noteFailure(reason string) {
	if s.failure.CompareAndSwap(nil, &reason) {
		s.failedAt.Mark()
	}
}

// rearm sets the reader's deadline to the earliest thing that needs a
// wake-up: a gap's wait, a digit's expiry, the RTP timeout. Between
// wake-ups it only ever moves the deadline earlier, so a packet costs no
// deadline change; woken, it always sets one (or clears it).
func (s *Stream) rearm(now time.Duration, woken bool) {
	r := &s.rx
	var need time.Duration
	if r.gapAt != 0 && r.jb.Len() > 0 {
		need = earliest(need, r.gapAt+s.gapWait)
	}
	if last, ok := r.dtmf.Pending(); ok {
		need = earliest(need, last+media.DTMFExpiry+time.Millisecond)
	}
	if last := s.lastRTP.Load(); s.timeout > 0 && last != 0 && s.recvOn.Load() && !s.timedOut.Load() {
		need = earliest(need, time.Duration(last)+s.timeout)
	}
	if woken {
		r.armed = 0
		if need == 0 {
			_ = s.tr.SetReadDeadline(time.Time{})
			return
		}
	}
	if need == 0 || (r.armed != 0 && need >= r.armed) {
		return
	}
	need = max(need, now+time.Millisecond)
	r.armed = need
	_ = s.tr.SetReadDeadline(s.epoch.Add(need))
}

// earliest returns the earlier of need and d, where 0 means none.
func earliest(need, d time.Duration) time.Duration {
	if need == 0 || d < need {
		return d
	}
	return need
}
