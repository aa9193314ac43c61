package b2bua

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/softswitch/softswitch/media/mixer"
	"github.com/softswitch/softswitch/media/recording"
)

var (
	// ErrNoSuchRoom is returned by the conference admin calls for a room
	// with nobody in it.
	ErrNoSuchRoom = errors.New("no such conference room")
	// ErrNoSuchMember is returned for a member not in the room.
	ErrNoSuchMember = errors.New("no such member in the room")

	errRoomFull   = errors.New("room full")
	errRoomLocked = errors.New("room locked")
)

// DefaultConfMax is the most members of a room when the dialplan sets no max.
const DefaultConfMax = 100

// confRooms are the engine's conference rooms by name; a room exists
// while someone is in it.
type confRooms struct {
	cfg mixer.Config
	log *slog.Logger

	mu    sync.Mutex
	rooms map[string]*confRoom
}

// confRoom is a room's mixer and who is in it; members, locked, max and
// next are guarded by confRooms.mu.
type confRoom struct {
	name    string
	mix     *mixer.Room
	members []*confMember
	locked  bool
	max     int
	next    int                 // the last member id given
	rec     *recording.Recorder // the room's mix, once a member asked for it
}

// confMember is one call in a room.
type confMember struct {
	id        string // "1", "2", ... within the room
	callID    string
	caller    string
	codec     string
	moderator bool
	joined    time.Time
	m         *mixer.Member // set once joined to the mixer, before others can see it
	kick      chan struct{} // closed by an operator's kick
	kicked    sync.Once
	notice    chan string // prompts to play to the member (CLI mute/unmute)
}

func newConfRooms(cfg mixer.Config, log *slog.Logger) *confRooms {
	return &confRooms{cfg: cfg, log: log, rooms: make(map[string]*confRoom)}
}

// enter admits cm to the room called name, creating it if empty; max
// (0: default) is taken from the first member. It fails with errRoomFull
// or errRoomLocked.
func (rs *confRooms) enter(name string, max int, cm *confMember, join func(*mixer.Room) (*mixer.Member, error)) (*confRoom, int, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.rooms[name]
	if r == nil {
		mix, err := mixer.New(name, rs.cfg, rs.log)
		if err != nil {
			return nil, 0, fmt.Errorf("conference %s: %w", name, err)
		}
		if max <= 0 {
			max = DefaultConfMax
		}
		r = &confRoom{name: name, mix: mix, max: max}
		rs.rooms[name] = r
	}
	switch {
	case r.locked:
		return nil, 0, errRoomLocked
	case len(r.members) >= r.max:
		return nil, 0, errRoomFull
	}
	r.next++
	cm.id = strconv.Itoa(r.next)
	m, err := join(r.mix)
	if err != nil {
		rs.dropIfEmpty(r)
		return nil, 0, fmt.Errorf("conference %s: %w", name, err)
	}
	cm.m = m
	r.members = append(r.members, cm)
	return r, len(r.members), nil
}

// leave takes cm out of r; the last to leave closes the room and its
// recording.
func (rs *confRooms) leave(r *confRoom, cm *confMember) (left int) {
	r.mix.Leave(cm.m)
	rs.mu.Lock()
	r.members = slices.DeleteFunc(r.members, func(x *confMember) bool { return x == cm })
	rec := rs.dropIfEmpty(r)
	left = len(r.members)
	rs.mu.Unlock()
	rs.stopRecording(r.name, rec) // outside mu: it waits for the disk
	return left
}

// dropIfEmpty closes an empty room and returns its recording, if any,
// for the caller to close; the caller holds mu.
func (rs *confRooms) dropIfEmpty(r *confRoom) *recording.Recorder {
	if len(r.members) > 0 {
		return nil
	}
	r.mix.Close()
	if rs.rooms[r.name] == r {
		delete(rs.rooms, r.name)
	}
	rec := r.rec
	r.rec = nil
	return rec
}

// record makes sure r's mix is being recorded, opening the recording
// with open when it is not yet, and returns its path ("" when it could
// not be opened: the room goes on unrecorded). Both channels of the file
// hold the mix. open runs without mu (it waits for the disk); a file
// opened when another member's already records, or for a room closed
// meanwhile, is removed.
func (rs *confRooms) record(r *confRoom, open func() (*recording.Recorder, error)) string {
	rs.mu.Lock()
	if r.rec != nil {
		defer rs.mu.Unlock()
		return r.rec.Path()
	}
	rs.mu.Unlock()
	rec, err := open()
	if err != nil {
		rs.log.Warn("conference recording failed: the room goes on unrecorded", "room", r.name, "error", err)
		return ""
	}
	rs.mu.Lock()
	if r.rec != nil || rs.rooms[r.name] != r {
		path := ""
		if r.rec != nil {
			path = r.rec.Path()
		}
		rs.mu.Unlock()
		_, _ = rec.Close()
		_ = os.Remove(rec.Path())
		return path
	}
	r.rec = rec
	r.mix.SetTap(rec.Tap(recording.Left, rec.Tap(recording.Right, discard{rate: r.mix.Rate()})))
	rs.mu.Unlock()
	rs.log.Info("conference recording started", "room", r.name, "path", rec.Path())
	return rec.Path()
}

// stopRecording closes a closed room's recording.
func (rs *confRooms) stopRecording(room string, rec *recording.Recorder) {
	if rec == nil {
		return
	}
	d, err := rec.Close()
	if err != nil {
		rs.log.Warn("conference recording ended with an error", "room", room, "path", rec.Path(), "duration", d.Round(time.Millisecond), "error", err)
		return
	}
	rs.log.Info("conference recording ended", "room", room, "path", rec.Path(), "duration", d.Round(time.Millisecond))
}

// toggleLock locks or unlocks r and returns the new state.
func (rs *confRooms) toggleLock(r *confRoom) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r.locked = !r.locked
	return r.locked
}

// ConfMember is a member of a room as the CLI shows it.
type ConfMember struct {
	ID        string    `json:"id"`
	CallID    string    `json:"call_id"`
	Caller    string    `json:"caller"`
	Codec     string    `json:"codec"`
	Rate      int       `json:"rate"`
	Moderator bool      `json:"moderator"`
	Muted     bool      `json:"muted"`
	Talking   bool      `json:"talking"`
	Level     int       `json:"level"`
	Gain      float64   `json:"gain"`
	Joined    time.Time `json:"joined"`
	// Loss is the share of the mixer's ticks that found no audio from
	// the member (late or lost packets, or the peer sends nothing).
	Loss float64 `json:"loss"`
}

// ConfRoom is a room as the CLI shows it.
type ConfRoom struct {
	Name   string `json:"name"`
	Locked bool   `json:"locked"`
	Max    int    `json:"max"`
	Rate   int    `json:"rate"`
	// SkippedTicks counts the mixer's ticks lost to a machine out of CPU.
	SkippedTicks uint64 `json:"skipped_ticks"`
	// Recording is the file the room's mix goes to, or "".
	Recording string       `json:"recording,omitempty"`
	Members   []ConfMember `json:"members"`
}

// snapshot describes r; the caller holds mu.
func (r *confRoom) snapshot() ConfRoom {
	out := ConfRoom{Name: r.name, Locked: r.locked, Max: r.max, Rate: r.mix.Rate(), SkippedTicks: r.mix.Skipped(), Members: make([]ConfMember, 0, len(r.members))}
	if r.rec != nil {
		out.Recording = r.rec.Path()
	}
	for _, cm := range r.members {
		st := cm.m.Stats()
		var loss float64
		if st.Ticks > 0 {
			loss = float64(st.Missed) / float64(st.Ticks)
		}
		out.Members = append(out.Members, ConfMember{ID: cm.id, CallID: cm.callID, Caller: cm.caller, Codec: cm.codec, Rate: st.Rate,
			Moderator: cm.moderator, Muted: st.Muted, Talking: st.Talking, Level: st.Level, Gain: st.Gain, Joined: cm.joined, Loss: loss})
	}
	return out
}

// Conferences lists the rooms in use, by name.
func (e *Engine) Conferences() []ConfRoom {
	rs := e.confs
	rs.mu.Lock()
	defer rs.mu.Unlock()
	out := make([]ConfRoom, 0, len(rs.rooms))
	for _, r := range rs.rooms {
		out = append(out, r.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Conference describes one room.
func (e *Engine) Conference(name string) (ConfRoom, error) {
	rs := e.confs
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r := rs.rooms[name]
	if r == nil {
		return ConfRoom{}, fmt.Errorf("conference %q: %w", name, ErrNoSuchRoom)
	}
	return r.snapshot(), nil
}

// member finds a member by id, call id or caller; the caller holds mu.
func (rs *confRooms) member(room, who string) (*confMember, error) {
	r := rs.rooms[room]
	if r == nil {
		return nil, fmt.Errorf("conference %q: %w", room, ErrNoSuchRoom)
	}
	for _, by := range []func(*confMember) string{
		func(m *confMember) string { return m.id },
		func(m *confMember) string { return m.callID },
		func(m *confMember) string { return m.caller },
	} {
		for _, cm := range r.members {
			if by(cm) == who {
				return cm, nil
			}
		}
	}
	return nil, fmt.Errorf("conference %q: member %q: %w", room, who, ErrNoSuchMember)
}

// ConfKick removes a member (by id, call id or caller) from a room: they
// hear a prompt and their call:conference returns nil, "kicked".
func (e *Engine) ConfKick(room, who string) error {
	return e.confs.withMember(room, who, func(cm *confMember) {
		cm.kicked.Do(func() { close(cm.kick) })
	})
}

// kickLast kicks the member of r who joined last, other than by, and
// returns it; nil when by is alone.
func (rs *confRooms) kickLast(r *confRoom, by *confMember) *confMember {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for i := len(r.members) - 1; i >= 0; i-- {
		if cm := r.members[i]; cm != by {
			cm.kicked.Do(func() { close(cm.kick) })
			return cm
		}
	}
	return nil
}

// ConfMute mutes or unmutes a member; they hear a prompt saying so.
func (e *Engine) ConfMute(room, who string, on bool) error {
	return e.confs.withMember(room, who, func(cm *confMember) {
		cm.m.SetMuted(on)
		p := "conf-unmuted"
		if on {
			p = "conf-muted"
		}
		select {
		case cm.notice <- p:
		default: // a prompt already waits: the state is what counts
		}
	})
}

// withMember runs f on a member of a room (see member) under mu.
func (rs *confRooms) withMember(room, who string, f func(*confMember)) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	cm, err := rs.member(room, who)
	if err != nil {
		return err
	}
	f(cm)
	return nil
}
