package media

import "sync/atomic"

// JitterMaxPayload is the largest payload a JitterBuffer slot holds; larger
// payloads are dropped (an RTP payload over UDP on Ethernet is smaller).
const JitterMaxPayload = 1500

const (
	// jitterMaxDepth bounds the window so one buffer stays a few kilobytes.
	jitterMaxDepth = 64
	// jitterMaxMisorder is how far behind the playout point a packet may be
	// and still count as merely late (RFC 3550 §A.1 MAX_MISORDER).
	jitterMaxMisorder = 100
)

type jitterState uint8

const (
	jitterIdle      jitterState = iota // nothing received since the last reset
	jitterBuffering                    // collecting the prefill before playout
	jitterPlaying                      // one frame out per Pop
	jitterUnderrun                     // ran dry while playing: concealing
)

type jitterSlot struct {
	seq  uint16
	full bool
	n    int
	buf  []byte
}

// JitterStats counts what a JitterBuffer did with its packets.
type JitterStats struct {
	Pushed    uint64 // packets given to Push
	Played    uint64 // frames returned by Pop
	Lost      uint64 // sequence numbers never played (gaps and skipped holes)
	Concealed uint64 // Pop results with lost=true
	Late      uint64 // packets behind the playout point, dropped
	Duplicate uint64 // packets already held, dropped
	Dropped   uint64 // packets dropped for size or pushed out by newer ones
	Underruns uint64 // times playout found the buffer empty
	Restarts  uint64 // sequence restarts detected (RFC 3550 §A.1 probation)
}

// JitterBuffer reorders 20 ms audio packets by RTP sequence number in a
// fixed window of depth frames. It is not safe for concurrent use, except
// Stats: its owner (media/stream's reader goroutine) calls the rest.
//
// Push copies the payload into one of the slots allocated by
// NewJitterBuffer, so steady-state operation allocates nothing. Packets
// behind the playout point are late and dropped; a duplicate is dropped; a
// packet beyond the window slides the window forward, dropping what falls
// out. Sequence numbers are compared modulo 2^16, so wrap-around at 65535
// is seamless. A jump back of more than 100 is taken as a sender restart
// once a second packet confirms it (RFC 3550 §A.1). An SSRC change is the
// caller's to detect: it calls Reset.
//
// Playout is driven by the caller, so either clock works:
//
//   - Ticker: call Pop once per 20 ms tick. Playout
//     starts when depth-1 frames (at least one) are held, so the buffer
//     adds about (depth-1)×20 ms of latency plus up to one tick of phase,
//     never more than depth×20 ms: with the default depth 3 that is 40 ms,
//     60 ms at most. A frame missing while later ones are held is a gap
//     (lost=true, the caller conceals). When the buffer runs dry, Pop
//     conceals for up to depth ticks while waiting for the prefill to come
//     back (a late packet still plays), then goes quiet (ok=false,
//     lost=false) until the stream resumes, so a stream that stops (hold,
//     silence suppression) does not produce endless concealment.
//   - Adaptive (packet-driven, what media/stream does with
//     NewArrivalBuffer): after each Push, call Pop while Ready reports
//     true. Frames come out as soon as they are in order; a gap is
//     declared when the newest slot of the window is filled (or when the
//     caller stops waiting and calls Pop), so reordering within depth
//     frames is absorbed at no extra latency for in-order packets.
//
// The RTP timestamp given to Push is not used for ordering (sequence
// numbers are); it is accepted so an arrival-jitter policy (RFC 3550
// §6.4.1) can be added without changing the API.
type JitterBuffer struct {
	slots   []jitterSlot
	mask    uint16
	depth   int
	prefill int

	state     jitterState
	next      uint16 // sequence number Pop returns next
	held      int    // full slots; all lie in [next, next+depth)
	played    bool   // a frame was played since playout (re)started
	underrun  int    // ticks spent in jitterUnderrun
	badSeq    uint16 // RFC 3550 §A.1 restart probation
	badSeqSet bool

	stats jitterCounters
}

// jitterCounters are the JitterStats counters, atomic so that Stats may
// be read from another goroutine than the one pushing and popping.
type jitterCounters struct {
	pushed, played, lost, concealed, late atomic.Uint64
	duplicate, dropped, underruns         atomic.Uint64
	restarts                              atomic.Uint64
}

// NewArrivalBuffer returns a buffer for packet-driven (adaptive) playout:
// as NewJitterBuffer, but playout starts with the first packet, so an
// in-order packet is Ready as soon as it is pushed.
func NewArrivalBuffer(depth int) *JitterBuffer {
	j := NewJitterBuffer(depth)
	j.prefill = 1
	return j
}

// NewJitterBuffer returns a buffer holding up to depth 20 ms frames
// (clamped to 1..64). A slot's memory is allocated when it first holds a
// payload (see fit).
func NewJitterBuffer(depth int) *JitterBuffer {
	depth = max(1, min(depth, jitterMaxDepth))
	size := 1
	for size < depth {
		size <<= 1
	}
	return &JitterBuffer{
		slots:   make([]jitterSlot, size),
		mask:    uint16(size - 1),
		depth:   depth,
		prefill: max(1, depth-1),
	}
}

// jitterSlotMin is the smallest buffer a slot gets: a 20 ms G.711 frame
// (160 bytes) and most Opus frames fit.
const jitterSlotMin = 256

// fit makes the slot's buffer hold n bytes (n <= JitterMaxPayload). A
// slot gets its buffer with its first payload and grows it by doubling, so
// a G.711 stream holds 4 × 256 bytes instead of 4 × 1500 for its whole
// life, and a steady stream allocates nothing.
func (s *jitterSlot) fit(n int) {
	if len(s.buf) >= n {
		return
	}
	size := max(jitterSlotMin, 2*len(s.buf))
	for size < n {
		size *= 2
	}
	s.buf = make([]byte, min(size, JitterMaxPayload))
}

// Depth returns the window size in frames.
func (j *JitterBuffer) Depth() int { return j.depth }

// Len returns the number of frames held.
func (j *JitterBuffer) Len() int { return j.held }

// Stats returns the counters since NewJitterBuffer. Unlike the other
// methods it may be called from any goroutine.
func (j *JitterBuffer) Stats() JitterStats {
	c := &j.stats
	return JitterStats{
		Pushed: c.pushed.Load(), Played: c.played.Load(), Lost: c.lost.Load(),
		Concealed: c.concealed.Load(), Late: c.late.Load(), Duplicate: c.duplicate.Load(),
		Dropped: c.dropped.Load(), Underruns: c.underruns.Load(), Restarts: c.restarts.Load(),
	}
}

// Reset forgets every frame and the sequence state, as for a new SSRC.
// Counters are kept.
func (j *JitterBuffer) Reset() {
	for i := range j.slots {
		j.slots[i].full = false
	}
	j.held = 0
	j.state = jitterIdle
	j.played = false
	j.underrun = 0
	j.badSeqSet = false
}

// Push stores a copy of payload as the frame with sequence number seq.
func (j *JitterBuffer) Push(seq uint16, ts uint32, payload []byte) {
	_ = ts // see the type documentation
	j.stats.pushed.Add(1)
	if len(payload) > JitterMaxPayload {
		j.stats.dropped.Add(1)
		return
	}
	if j.state == jitterIdle {
		j.start(seq)
	}
	d := int(int16(seq - j.next))
	switch {
	case d < -jitterMaxMisorder:
		if !j.badSeqSet || seq != j.badSeq {
			// Possibly a restart: believe it when seq+1 follows.
			j.badSeq, j.badSeqSet = seq+1, true
			j.stats.late.Add(1)
			return
		}
		j.stats.restarts.Add(1)
		j.Reset()
		j.start(seq)
	case d < 0:
		if j.played || !j.fits(seq) {
			j.stats.late.Add(1)
			return
		}
		j.next = seq // reordered before playout started: rewind
	case d >= j.depth:
		j.slide(seq - uint16(j.depth-1))
	}
	j.badSeqSet = false
	s := &j.slots[seq&j.mask]
	if s.full {
		// Every full slot lies in the window and the window maps one to
		// one onto slots, so this is the same sequence number.
		j.stats.duplicate.Add(1)
		return
	}
	s.fit(len(payload))
	s.seq, s.full, s.n = seq, true, copy(s.buf, payload)
	j.held++
}

// Pop returns the next frame in sequence order. ok=true gives the payload,
// valid until the next call of Push, Pop or Reset. lost=true means a frame
// is missing here and the caller should conceal one frame. Both false
// means there is nothing to play (not started, prefilling, or the stream
// stopped).
func (j *JitterBuffer) Pop() (payload []byte, ok bool, lost bool) {
	switch j.state {
	case jitterIdle:
		return nil, false, false
	case jitterBuffering:
		if j.held < j.prefill {
			return nil, false, false
		}
		j.state = jitterPlaying
	case jitterUnderrun:
		if j.held < j.prefill {
			j.underrun++
			if j.underrun > j.depth {
				j.state = jitterBuffering
				return nil, false, false
			}
			j.stats.concealed.Add(1)
			return nil, false, true
		}
		j.state = jitterPlaying
	}
	s := &j.slots[j.next&j.mask]
	if s.full {
		s.full = false
		j.held--
		j.next++
		j.played = true
		j.stats.played.Add(1)
		return s.buf[:s.n], true, false
	}
	j.stats.concealed.Add(1)
	if j.held > 0 {
		j.next++
		j.stats.lost.Add(1)
		return nil, false, true
	}
	j.state = jitterUnderrun
	j.underrun = 1
	j.stats.underruns.Add(1)
	return nil, false, true
}

// Peek returns the payload Pop would return next without taking it, or
// false when that frame is not held. After a Pop that reported a loss it
// is the packet following the gap, whose Opus in-band FEC data can
// recover the lost frame. The payload is valid until the next call of
// Push, Pop or Reset.
func (j *JitterBuffer) Peek() ([]byte, bool) {
	if j.state == jitterIdle || j.held == 0 {
		return nil, false
	}
	s := &j.slots[j.next&j.mask]
	if !s.full {
		return nil, false
	}
	return s.buf[:s.n], true
}

// Ready reports whether Pop would return a frame or a gap that waiting
// longer cannot fill: for packet-driven (adaptive) playout.
func (j *JitterBuffer) Ready() bool {
	if j.state == jitterIdle || j.held == 0 {
		return false
	}
	if j.state != jitterPlaying && j.held < j.prefill {
		return false
	}
	if j.slots[j.next&j.mask].full {
		return true
	}
	// The gap is final once the newest slot of the window is filled.
	return j.slots[(j.next+uint16(j.depth-1))&j.mask].full
}

func (j *JitterBuffer) start(seq uint16) {
	j.state = jitterBuffering
	j.next = seq
	j.played = false
}

// fits reports whether rewinding the window to start at seq keeps every
// held frame inside it.
func (j *JitterBuffer) fits(seq uint16) bool {
	for i := range j.slots {
		s := &j.slots[i]
		if s.full && int(s.seq-seq) >= j.depth {
			return false
		}
	}
	return true
}

// slide moves the window start forward to next, dropping frames that fall
// out of it.
func (j *JitterBuffer) slide(next uint16) {
	skipped := uint64(uint16(next - j.next))
	for i := range j.slots {
		s := &j.slots[i]
		if s.full && int16(s.seq-next) < 0 {
			s.full = false
			j.held--
			j.stats.dropped.Add(1)
			skipped--
		}
	}
	if j.played {
		j.stats.lost.Add(skipped) // holes never filled
	}
	j.next = next
}
