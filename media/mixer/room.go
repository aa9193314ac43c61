package mixer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/media"
)

var (
	// ErrFrame is returned for an input frame longer than the member's
	// buffers (more than about 40 ms).
	ErrFrame = errors.New("mixer: frame too long")
	// ErrClosed is returned when joining a closed room.
	ErrClosed = errors.New("mixer: room closed")
)

// Room mixes its members on one 20 ms clock, from New until Close.
type Room struct {
	name string
	cfg  Config
	n    int // samples per frame at cfg.Rate
	log  *slog.Logger

	mu      sync.Mutex // guards members, closed, sound, soundPos
	members []*Member
	closed  bool
	sound   []int16 // a sound everyone hears (join/leave tones), room rate
	soundAt int
	tap     media.Sink // hears the whole mix (a recording), or nil

	tickMu sync.Mutex // held for a whole tick: Leave waits on it
	snap   []*Member  // the members of this tick
	talk   []*Member  // this tick's talkers
	sum    []int32    // this tick's mix of all talkers
	snd    []int16    // this tick's part of sound
	tapped media.Sink // this tick's tap
	tapPCM []int16    // the whole mix after the limiter, for the tap

	skipped atomic.Uint64 // ticks skipped by a late clock

	stop chan struct{}
	done chan struct{}
}

// New starts a room's clock. Close stops it.
func New(name string, cfg Config, log *slog.Logger) (*Room, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("new room %q: %w", name, err)
	}
	r := newRoom(name, cfg, log)
	go r.run()
	return r, nil
}

// newRoom builds a room without starting its clock (tests tick by hand).
func newRoom(name string, cfg Config, log *slog.Logger) *Room {
	n := media.FrameSamples(cfg.Rate)
	return &Room{name: name, cfg: cfg, n: n, log: log,
		talk: make([]*Member, 0, cfg.Talkers), sum: make([]int32, n), snd: make([]int16, n), tapPCM: make([]int16, n),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Name returns the room's name.
func (r *Room) Name() string { return r.name }

// Rate returns the mixing rate.
func (r *Room) Rate() int { return r.cfg.Rate }

// maxCatchUp bounds the ticks a late clock runs at once to catch up;
// beyond that the missed ticks are skipped (and counted).
const maxCatchUp = 5

// run is the room's clock: one tick per 20 ms on average. When the
// goroutine was held up (a busy machine), it runs the ticks it missed, up
// to maxCatchUp at once, so members still get 50 frames a second.
func (r *Room) run() {
	defer close(r.done)
	next := time.Now().Add(media.FrameDuration)
	t := time.NewTimer(media.FrameDuration)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-r.stop:
			return
		}
		ticks, skipped, after := due(time.Now(), next)
		for range ticks {
			r.tick()
		}
		r.skipped.Add(uint64(skipped))
		next = after
		t.Reset(time.Until(next))
	}
}

// due tells a clock whose next tick was due at next what to do at now:
// run ticks ticks (at most maxCatchUp), skip skipped, and wait for after.
func due(now, next time.Time) (ticks, skipped int, after time.Time) {
	if now.Before(next) {
		return 0, 0, next
	}
	late := int(now.Sub(next)/media.FrameDuration) + 1 // ticks due, next's included
	ticks = min(late, maxCatchUp)
	return ticks, late - ticks, next.Add(time.Duration(late) * media.FrameDuration)
}

// Skipped returns how many ticks the clock skipped because it ran too
// late to catch up (a machine out of CPU).
func (r *Room) Skipped() uint64 { return r.skipped.Load() }

// Close stops the clock and waits for it; members are sent nothing more.
func (r *Room) Close() {
	r.mu.Lock()
	was := r.closed
	r.closed = true
	r.mu.Unlock()
	if !was {
		close(r.stop)
	}
	<-r.done
}

// Join adds a member whose leg writes at inRate and who hears the room
// through out (at out's rate). The leg should then send its audio to
// the returned Member (SetAudioOutput).
func (r *Room) Join(id string, inRate int, out media.Sink) (*Member, error) {
	m, err := newMember(r, id, inRate, out)
	if err != nil {
		return nil, fmt.Errorf("join room %q: %w", r.name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("join room %q: %w", r.name, ErrClosed)
	}
	r.members = append(r.members, m)
	return m, nil
}

// Leave removes m; once it returns, the room writes nothing more to m's
// sink.
func (r *Room) Leave(m *Member) {
	r.mu.Lock()
	for i, x := range r.members {
		if x == m {
			r.members = slices.Delete(r.members, i, i+1)
			break
		}
	}
	r.mu.Unlock()
	r.tickMu.Lock() // a tick in progress may still write to m
	r.tickMu.Unlock()
}

// Members returns the members' states, in joining order.
func (r *Room) Members() []Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Stats, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, m.Stats())
	}
	return out
}

// Len returns the number of members.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// Play makes everyone in the room hear pcm (at the room's rate), mixed
// over the talkers; it replaces a sound still playing. pcm is read, never
// written, and must not change afterwards.
func (r *Room) Play(pcm []int16) {
	r.mu.Lock()
	r.sound, r.soundAt = pcm, 0
	r.mu.Unlock()
}

// SetTap makes s hear the whole mix (every talker and room sound, at the
// room's rate), e.g. to record the conference; nil removes it. After it
// returns, the old tap gets no more frames.
func (r *Room) SetTap(s media.Sink) {
	r.mu.Lock()
	r.tap = s
	r.mu.Unlock()
	r.tickMu.Lock() // a tick in progress may still write to the old tap
	r.tickMu.Unlock()
}

// tick mixes one frame for every member.
func (r *Room) tick() {
	r.tickMu.Lock()
	defer r.tickMu.Unlock()
	r.mu.Lock()
	r.snap = append(r.snap[:0], r.members...)
	r.tapped = r.tap
	clear(r.snd)
	if r.sound != nil {
		k := copy(r.snd, r.sound[r.soundAt:])
		r.soundAt += k
		if r.soundAt >= len(r.sound) {
			r.sound, r.soundAt = nil, 0
		}
	}
	r.mu.Unlock()

	for _, m := range r.snap {
		m.take()
	}
	r.pickTalkers()
	for i, v := range r.snd {
		r.sum[i] = int32(v)
	}
	for _, m := range r.talk {
		for i, v := range m.cur {
			r.sum[i] += int32(v)
		}
	}
	if r.tapped != nil {
		for i, v := range r.sum {
			r.tapPCM[i] = limit(v)
		}
		if err := r.tapped.WriteFrame(r.tapPCM); err != nil && r.debug() {
			r.log.Debug("conference: the tap failed", "room", r.name, "error", err)
		}
		r.tapped = nil
	}
	for _, m := range r.snap {
		copy(m.mix, r.sum)
		if m.talk {
			for i, v := range m.cur {
				m.mix[i] -= int32(v)
			}
		}
		if err := m.send(); err != nil && r.debug() {
			r.log.Debug("conference: sending to a member failed", "room", r.name, "member", m.id, "error", err)
		}
	}
	clear(r.snap) // keep no member alive past its leave
}

// debug tells whether failures are logged: checked first, so that a sink
// failing every tick costs no allocation when debug is off.
func (r *Room) debug() bool {
	return r.log != nil && r.log.Enabled(context.Background(), slog.LevelDebug)
}

// pickTalkers selects up to cfg.Talkers members whose energy passes the
// threshold, loudest first.
func (r *Room) pickTalkers() {
	r.talk = r.talk[:0]
	floor := int64(r.cfg.Threshold) * int64(r.cfg.Threshold) * int64(r.n)
	for _, m := range r.snap {
		if m.energy < floor || m.energy == 0 {
			continue
		}
		if len(r.talk) < r.cfg.Talkers {
			r.talk = append(r.talk, m)
		} else if q := r.quietest(); m.energy > r.talk[q].energy {
			r.talk[q] = m
		}
	}
	for _, m := range r.snap {
		m.talk = false
	}
	for _, m := range r.talk {
		m.talk = true
	}
	for _, m := range r.snap {
		m.talking.Store(m.talk)
	}
}

// quietest returns the index of the quietest talker.
func (r *Room) quietest() int {
	q := 0
	for i, m := range r.talk {
		if m.energy < r.talk[q].energy {
			q = i
		}
	}
	return q
}
