package webrtcep

import (
	"fmt"
	"sync"
	"time"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
)

// maxPopsPerTick bounds the packets one tick may consume to fill a frame
// (several for a peer sending 10 ms packets).
const maxPopsPerTick = 8

// pending is a packet popped ahead of its turn to recover the one before
// it from in-band FEC.
type pending uint8

const (
	pendNone  pending = iota
	pendFrame         // next holds the packet to play on the next pop
	pendLost          // the next pop is a loss as well
)

// player is the playout goroutine's state: decoders and buffers. Its
// lock is held for a whole tick and by SetRate.
type player struct {
	mu sync.Mutex

	rate       int
	opus       *opus.Decoder // at rate; created on first use
	pcmu, pcma codecs.Decoder

	pkt      [maxPacket]byte
	next     [maxPacket]byte
	nextN    int
	pend     pending
	pendKind kind

	pcm  [6*maxSamples + maxSamples]int16 // up to a 120 ms packet plus a partial frame
	n    int                              // samples decoded in pcm and not yet written
	kind kind                             // codec of the samples in pcm
	evs  [2]media.Event
}

func (p *player) init() {
	p.rate = DefaultRate
	p.pcmu, _ = g711.NewDecoder(g711.PCMU) // the names are valid
	p.pcma, _ = g711.NewDecoder(g711.PCMA)
}

// setRate recreates the Opus decoder at rate.
func (p *player) setRate(rate int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = rate
	if p.opus != nil && p.kind == kindOpus {
		p.n = 0
	}
	if p.opus == nil {
		return nil
	}
	dec, err := opus.NewDecoder(opus.Config{Rate: rate})
	if err != nil {
		return fmt.Errorf("opus decoder: %w", err)
	}
	p.opus = dec
	return nil
}

// frame is the samples of one 20 ms frame of codec k.
func (p *player) frame(k kind) int {
	if k == kindOpus {
		return p.rate / 50
	}
	return g711Rate / 50
}

// decode decodes one packet of codec k into dst: payload when ok, else
// concealed, from the FEC data of fec when given (Opus).
func (p *player) decode(k kind, dst []int16, payload, fec []byte, ok bool) (int, error) {
	switch k {
	case kindOpus:
		if p.opus == nil {
			dec, err := opus.NewDecoder(opus.Config{Rate: p.rate})
			if err != nil {
				return 0, fmt.Errorf("opus decoder: %w", err)
			}
			p.opus = dec
		}
		switch {
		case ok:
			return p.opus.Decode(dst, payload)
		case fec != nil:
			return p.opus.DecodeFEC(dst, fec)
		}
		return p.opus.Decode(dst, nil)
	case kindPCMU, kindPCMA:
		dec := p.pcmu
		if k == kindPCMA {
			dec = p.pcma
		}
		if !ok {
			payload = nil
		}
		return dec.Decode(dst, payload)
	}
	return 0, nil
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
}

// playout writes the next 20 ms frame to the output: the payload itself
// to a PayloadSink that takes the codec, else decoded (or concealed).
func (e *Endpoint) playout() {
	pl := &e.pl
	pl.mu.Lock()
	defer pl.mu.Unlock()
	out := e.output.Load()
	if out == nil {
		e.rx.pop(pl.pkt[:]) // nobody listens: keep the buffer moving
		pl.n, pl.pend = 0, pendNone
		return
	}
	for i := 0; pl.n < pl.frame(pl.kind) && i < maxPopsPerTick; i++ {
		payload, fec, k, ok, lost := e.nextPacket()
		if (!ok && !lost) || k == kindNone {
			break
		}
		if k != pl.kind {
			pl.n, pl.kind = 0, k
		}
		if ok && pl.n == 0 && out.ps != nil && e.relay(out.ps, k, payload) {
			return
		}
		n, err := pl.decode(k, pl.pcm[pl.n:], payload, fec, ok)
		if err != nil {
			e.stats.outputErrors.Add(1)
			continue
		}
		pl.n += n
		switch {
		case ok:
			e.stats.decoded.Add(1)
			e.relaying.Store(false)
		case fec != nil:
			e.stats.recovered.Add(1)
		default:
			e.stats.concealed.Add(1)
		}
	}
	frame := pl.frame(pl.kind)
	if pl.n < frame {
		return
	}
	if err := out.sink.WriteFrame(pl.pcm[:frame]); err != nil {
		e.stats.outputErrors.Add(1)
	}
	pl.n = copy(pl.pcm[:], pl.pcm[frame:pl.n])
}

// nextPacket pops the next packet. For a lost Opus packet with more held,
// it pops the following one ahead of its turn and returns it as fec: its
// in-band FEC data recovers the lost one; it plays on the next call.
// e.pl.mu is held.
func (e *Endpoint) nextPacket() (payload, fec []byte, k kind, ok, lost bool) {
	pl := &e.pl
	switch pl.pend {
	case pendFrame:
		pl.pend = pendNone
		return pl.next[:pl.nextN], nil, pl.pendKind, true, false
	case pendLost:
		pl.pend = pendNone
		return nil, nil, pl.pendKind, false, true
	}
	payload, k, ok, lost, more := e.rx.pop(pl.pkt[:])
	if !lost || k != kindOpus || !more {
		return payload, nil, k, ok, lost
	}
	p2, k2, ok2, lost2, _ := e.rx.pop(pl.next[:])
	switch {
	case ok2:
		pl.nextN, pl.pend, pl.pendKind = len(p2), pendFrame, k2
		if k2 == kindOpus {
			fec = p2
		}
	case lost2:
		pl.pend, pl.pendKind = pendLost, k2
	}
	return payload, fec, k, ok, lost
}

// relay passes a payload undecoded when the sink takes the codec.
func (e *Endpoint) relay(ps media.PayloadSink, k kind, payload []byte) bool {
	took, err := ps.WritePayload(k.String(), payload)
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
	e.log.Info("webrtc rtp timeout", "after", e.set.timeout.String())
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
