// Package ratelog writes log lines about what peers send (bad input,
// refused connections and calls) without letting a peer turn them into log
// volume (issue 12, item 8): one line per kind and source per interval,
// carrying how many events it stands for; at most PerKind lines of one
// kind per interval from all sources together (spoofed UDP sources cost an
// attacker nothing); and no logged string longer than MaxValue bytes.
package ratelog

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

const (
	// MaxValue bounds one logged string value, in bytes.
	MaxValue = 200
	// PerKind is the number of lines of one kind let through per interval
	// from all sources together.
	PerKind = 100
	// maxKeys bounds the (kind, source) pairs remembered; beyond it they
	// are forgotten at once (the per-kind ceiling still holds).
	maxKeys = 10000
)

// Truncate shortens s to at most n bytes, plus a note of its full length.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)) + " bytes)"
}

// Limiter decides which lines get through.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	seen  map[string]*state // by kind + "\x00" + source
	kinds map[string]*kindState
}

type state struct {
	last    time.Time
	dropped int
}

type kindState struct {
	start   time.Time
	lines   int
	dropped int
}

// New returns a Limiter with the given interval.
func New(every time.Duration) *Limiter {
	return &Limiter{every: every, now: time.Now, seen: make(map[string]*state), kinds: make(map[string]*kindState)}
}

// Verdict is what Allow decided about one event.
type Verdict struct {
	OK bool // write the line
	// Dropped is how many events of this kind from this source were left
	// out since its previous line; KindDropped how many of this kind from
	// any source were left out by the per-kind ceiling since the last line
	// of the kind.
	Dropped, KindDropped int
}

// Allow records an event of kind from source (an address; a port is
// ignored, an IPv6 /64 is one source) and says whether its line may be
// written now.
func (l *Limiter) Allow(kind, source string) Verdict {
	now := l.now()
	key := kind + "\x00" + sourcekey.Of(sourcekey.Host(source))
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.seen[key]
	if st != nil && now.Sub(st.last) < l.every {
		st.dropped++
		return Verdict{}
	}
	ks := l.kinds[kind]
	if ks == nil || now.Sub(ks.start) >= l.every {
		if ks == nil && len(l.kinds) >= maxKeys {
			clear(l.kinds)
		}
		prev := 0
		if ks != nil {
			prev = ks.dropped
		}
		ks = &kindState{start: now, dropped: prev}
		l.kinds[kind] = ks
	}
	if ks.lines >= PerKind {
		ks.dropped++
		if st != nil {
			st.dropped++
		}
		return Verdict{}
	}
	if st == nil {
		if len(l.seen) >= maxKeys {
			clear(l.seen)
		}
		st = &state{}
		l.seen[key] = st
	}
	v := Verdict{OK: true, Dropped: st.dropped, KindDropped: ks.dropped}
	st.last, st.dropped = now, 0
	ks.lines++
	ks.dropped = 0
	return v
}

// Log writes msg at level when Allow lets it through. String values in
// args are truncated to MaxValue; the line ends with count (the events it
// stands for) and, when the per-kind ceiling left lines out, kind_suppressed.
func (l *Limiter) Log(log *slog.Logger, level slog.Level, kind, source, msg string, args ...any) {
	if v := l.Allow(kind, source); v.OK {
		write(log, level, msg, v, nil, args)
	}
}

// write logs msg with lead, then args truncated, then the verdict's counts
// (count right after lead when there is a lead).
func write(log *slog.Logger, level slog.Level, msg string, v Verdict, lead, args []any) {
	out := make([]any, 0, len(lead)+len(args)+4)
	out = append(out, lead...)
	if lead != nil {
		out = append(out, "count", v.Dropped+1)
	}
	for _, a := range args {
		if s, ok := a.(string); ok {
			a = Truncate(s, MaxValue)
		}
		out = append(out, a)
	}
	if lead == nil {
		out = append(out, "count", v.Dropped+1)
	}
	if v.KindDropped > 0 {
		out = append(out, "kind_suppressed", v.KindDropped)
	}
	log.Log(context.Background(), level, msg, out...)
}

// Warn is Log at warning level.
func (l *Limiter) Warn(log *slog.Logger, kind, source, msg string, args ...any) {
	l.Log(log, slog.LevelWarn, kind, source, msg, args...)
}

// Info is Log at info level.
func (l *Limiter) Info(log *slog.Logger, kind, source, msg string, args ...any) {
	l.Log(log, slog.LevelInfo, kind, source, msg, args...)
}

// Event is one kind of line with its message, for callers that note the
// same event from many sources.
type Event struct {
	lim   *Limiter
	log   *slog.Logger
	level slog.Level
	msg   string
}

// NewEvent returns an Event of its own (kind msg, interval every) logged
// to log at level.
func NewEvent(log *slog.Logger, level slog.Level, every time.Duration, msg string) *Event {
	return &Event{lim: New(every), log: log, level: level, msg: msg}
}

// Note logs the event from source (its address is logged, then count; a
// port is ignored) with args, under the limiter's rules.
func (e *Event) Note(source string, args ...any) {
	host := sourcekey.Host(source)
	if v := e.lim.Allow(e.msg, host); v.OK {
		write(e.log, e.level, e.msg, v, []any{"source", host}, args)
	}
}
