package mixer

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/softswitch/softswitch/media"
)

// fifoFrames is how many room frames a member's input may queue: more
// than that and the oldest are dropped (the peer sends faster than the
// room's clock, or in bursts). At a tick, a queue longer than keepFrames
// is cut to keepFrames, so a burst does not add latency for good.
const (
	fifoFrames = 4
	keepFrames = 2
)

// Member is one participant: a media.Sink at its leg's receive rate that
// the leg writes into, and the sink the room sends its mix to.
type Member struct {
	id   string
	room *Room

	// Input side, written by the leg's receive goroutine.
	inRate int
	inRes  *media.Resampler // nil when inRate is the room's rate
	inBuf  []int16          // one resampled frame
	mu     sync.Mutex       // guards fifo, head, size, dropped
	fifo   []int16          // fifoFrames room frames, a ring of samples
	head   int              // index of the oldest sample
	size   int              // samples queued
	drops  uint64           // samples dropped on overflow

	// Output side, used by the room's clock only.
	out     media.Sink
	outRate int              // the rate outRes converts to
	outRes  *media.Resampler // nil when the out sink runs at the room's rate
	outBuf  []int16
	cur     []int16 // this tick's input frame, gain applied
	mix     []int32 // scratch: this member's mix before the limiter
	pcm     []int16 // this member's mix after the limiter, room rate
	energy  int64   // sum of squares of cur this tick; 0 when silent
	talk    bool    // mixed this tick

	gain    atomic.Uint32 // float32 bits, input gain (1 = unchanged)
	muted   atomic.Bool
	talking atomic.Bool   // mixed in the last tick (for show)
	level   atomic.Int32  // RMS of the last tick's input
	ticks   atomic.Uint64 // ticks seen
	missed  atomic.Uint64 // ticks with no input frame
	werrs   atomic.Uint64 // failed writes to out
}

func newMember(r *Room, id string, inRate int, out media.Sink) (*Member, error) {
	n := r.n
	m := &Member{id: id, room: r, inRate: inRate, out: out,
		fifo: make([]int16, fifoFrames*n), cur: make([]int16, n), mix: make([]int32, n), pcm: make([]int16, n)}
	m.gain.Store(math.Float32bits(1))
	if inRate != r.cfg.Rate {
		res, err := media.NewResampler(inRate, r.cfg.Rate)
		if err != nil {
			return nil, fmt.Errorf("member %s input: %w", id, err)
		}
		m.inRes, m.inBuf = res, make([]int16, res.OutLen(media.FrameSamples(inRate))+n)
	}
	if err := m.setOutRate(out.Rate()); err != nil {
		return nil, err
	}
	return m, nil
}

// setOutRate makes the member's mix come out at rate. When no resampler
// can make rate, nothing changes (and the next tick tries again).
func (m *Member) setOutRate(rate int) error {
	if rate == m.room.cfg.Rate {
		m.outRate, m.outRes = rate, nil
		return nil
	}
	res, err := media.NewResampler(m.room.cfg.Rate, rate)
	if err != nil {
		return fmt.Errorf("member %s output: %w", m.id, err)
	}
	m.outRate, m.outRes, m.outBuf = rate, res, make([]int16, res.OutLen(m.room.n)+media.FrameSamples(rate))
	return nil
}

// ID returns the member's id.
func (m *Member) ID() string { return m.id }

// WriteFrame queues a frame the member's peer sent, at Rate().
func (m *Member) WriteFrame(pcm []int16) error {
	if m.inRes != nil {
		k := m.inRes.OutLen(len(pcm))
		if k > len(m.inBuf) {
			return fmt.Errorf("mixer: member %s: frame of %d samples is longer than 20 ms: %w", m.id, len(pcm), ErrFrame)
		}
		pcm = m.inBuf[:m.inRes.Process(m.inBuf[:k], pcm)]
	}
	m.mu.Lock()
	m.push(pcm)
	m.mu.Unlock()
	return nil
}

// push appends pcm to the ring, dropping the oldest samples when full.
// The caller holds mu.
func (m *Member) push(pcm []int16) {
	c := len(m.fifo)
	if len(pcm) > c {
		pcm = pcm[len(pcm)-c:]
	}
	if over := m.size + len(pcm) - c; over > 0 {
		m.head = (m.head + over) % c
		m.size -= over
		m.drops += uint64(over)
	}
	tail := (m.head + m.size) % c
	k := copy(m.fifo[tail:], pcm)
	copy(m.fifo, pcm[k:])
	m.size += len(pcm)
}

// pull takes one room frame into m.cur; false when less than a frame
// has arrived (the peer is late or silent).
func (m *Member) pull() bool {
	n := len(m.cur)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.size < n {
		return false
	}
	c := len(m.fifo)
	if over := m.size - keepFrames*n; over > 0 {
		m.head = (m.head + over) % c
		m.size -= over
		m.drops += uint64(over)
	}
	k := copy(m.cur, m.fifo[m.head:min(c, m.head+n)])
	copy(m.cur[k:], m.fifo[:n-k])
	m.head = (m.head + n) % c
	m.size -= n
	return true
}

// Rate returns the rate the member's leg writes at.
func (m *Member) Rate() int { return m.inRate }

// String names the stage, e.g. "mixer(room 3000, 8000->16000)".
func (m *Member) String() string {
	return fmt.Sprintf("mixer(room %s, %d->%d)", m.room.name, m.inRate, m.room.cfg.Rate)
}

// SetMuted mutes or unmutes the member's input (it still hears the room).
func (m *Member) SetMuted(on bool) { m.muted.Store(on) }

// Muted reports whether the member is muted.
func (m *Member) Muted() bool { return m.muted.Load() }

// SetGain scales the member's input (1 = unchanged, 0 to 4).
func (m *Member) SetGain(g float64) {
	if math.IsNaN(g) || g < 0 {
		g = 0
	}
	m.gain.Store(math.Float32bits(float32(min(g, 4))))
}

// Stats is a member's state, for the CLI.
type Stats struct {
	ID      string
	Muted   bool
	Talking bool   // mixed in the last tick
	Level   int    // RMS of the last input frame (int16 units)
	Ticks   uint64 // frames the room's clock asked for
	Missed  uint64 // of which none had arrived
	Dropped uint64 // input frames dropped on overflow
	Rate    int    // the leg's PCM rate
	Gain    float64
}

// Stats returns the member's current state.
func (m *Member) Stats() Stats {
	m.mu.Lock()
	drops := m.drops
	m.mu.Unlock()
	return Stats{ID: m.id, Muted: m.muted.Load(), Talking: m.talking.Load(), Level: int(m.level.Load()),
		Ticks: m.ticks.Load(), Missed: m.missed.Load(), Dropped: drops / uint64(len(m.cur)), Rate: m.inRate,
		Gain: float64(math.Float32frombits(m.gain.Load()))}
}

// take reads this tick's input and measures it (room clock only).
func (m *Member) take() {
	m.ticks.Add(1)
	m.talk = false
	if !m.pull() {
		m.missed.Add(1)
		m.energy = 0
		m.level.Store(0)
		return
	}
	if g := math.Float32frombits(m.gain.Load()); g != 1 {
		q := int32(g * 4096)
		for i, v := range m.cur {
			m.cur[i] = limit(int32(v) * q >> 12)
		}
	}
	var e int64
	for _, v := range m.cur {
		e += int64(v) * int64(v)
	}
	m.level.Store(int32(math.Sqrt(float64(e) / float64(len(m.cur)))))
	if m.muted.Load() {
		e = 0
	}
	m.energy = e
}

// send limits m.mix and writes it to the member's sink (room clock only).
func (m *Member) send() error {
	for i, v := range m.mix {
		m.pcm[i] = limit(v)
	}
	pcm := m.pcm
	if rate := m.out.Rate(); rate != m.outRate {
		// The leg's codec changed (a re-INVITE): follow it.
		if err := m.setOutRate(rate); err != nil {
			m.werrs.Add(1)
			return err
		}
	}
	if m.outRes != nil {
		k := m.outRes.OutLen(len(pcm))
		pcm = m.outBuf[:m.outRes.Process(m.outBuf[:k], pcm)]
	}
	if err := m.out.WriteFrame(pcm); err != nil {
		m.werrs.Add(1)
		return err
	}
	return nil
}
