package sipserver

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Hostile input must not turn into log volume: a line about bad input is
// written at most once per source and kind per interval, with a count of
// the ones left out, and no logged value is longer than maxLogValue.
const (
	maxLogValue   = 200              // bytes of one logged value
	noteEvery     = time.Minute      // one line per source and kind
	sipgoLogEvery = 10 * time.Second // one sipgo warning/error per message and source
	maxNoteKeys   = 10000            // keys remembered; beyond, forgotten at once
)

// truncate shortens s to at most n bytes (plus a note of the full length).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)) + " bytes)"
}

// logLimiter lets one line per key through per interval.
type logLimiter struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*noteState
}

type noteState struct {
	last    time.Time
	dropped int
}

func newLogLimiter(every time.Duration) *logLimiter {
	return &logLimiter{every: every, now: time.Now, seen: make(map[string]*noteState)}
}

// allow reports whether a line for key may be written now, and how many
// were left out since the last one.
func (n *logLimiter) allow(key string) (bool, int) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	st := n.seen[key]
	if st != nil && now.Sub(st.last) < n.every {
		st.dropped++
		return false, 0
	}
	if st == nil {
		if len(n.seen) >= maxNoteKeys {
			clear(n.seen)
		}
		st = &noteState{}
		n.seen[key] = st
	}
	dropped := st.dropped
	st.last, st.dropped = now, 0
	return true, dropped
}

// log writes msg at level when kind has not been logged for source within
// the interval; args are truncated.
func (n *logLimiter) log(l *slog.Logger, level slog.Level, kind, source, msg string, args ...any) {
	ok, dropped := n.allow(kind + "\x00" + source)
	if !ok {
		return
	}
	for i, a := range args {
		if s, isStr := a.(string); isStr {
			args[i] = truncate(s, maxLogValue)
		}
	}
	if dropped > 0 {
		args = append(args, "suppressed", dropped)
	}
	if level >= slog.LevelWarn {
		l.Warn(msg, args...)
	} else {
		l.Info(msg, args...)
	}
}

func (n *logLimiter) warn(l *slog.Logger, kind, source, msg string, args ...any) {
	n.log(l, slog.LevelWarn, kind, source, msg, args...)
}

// info logs what a broken client or a scanner causes on every
// connection (a failed TLS handshake): at info, rate-limited.
func (n *logLimiter) info(l *slog.Logger, kind, source, msg string, args ...any) {
	n.log(l, slog.LevelInfo, kind, source, msg, args...)
}

// QuietLogger wraps l for sipgo: its values are truncated (sipgo logs a
// whole unparseable message as "data") and its warnings and errors are
// written once per message text and remote address per 10 s.
func QuietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(&quietHandler{inner: l.Handler(), notes: newLogLimiter(sipgoLogEvery)})
}

type quietHandler struct {
	inner slog.Handler
	notes *logLimiter
}

func (h *quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo && sipgoFrameNoise(r.Message) {
		return nil // the SIP trace (trace.go) shows the messages themselves
	}
	level := r.Level
	if level >= slog.LevelWarn && sipgoRoutine(r.Message) {
		if level = slog.LevelDebug; !h.inner.Enabled(ctx, level) {
			return nil
		}
	}
	out := slog.NewRecord(r.Time, level, truncate(r.Message, maxLogValue), r.PC)
	source := ""
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "raddr", "src", "source", "dst":
			source = hostOf(a.Value.String())
		}
		out.AddAttrs(shortAttr(a))
		return true
	})
	if level >= slog.LevelWarn {
		ok, dropped := h.notes.allow(r.Message + "\x00" + source)
		if !ok {
			return nil
		}
		if dropped > 0 {
			out.AddAttrs(slog.Int("suppressed", dropped))
		}
	}
	return h.inner.Handle(ctx, out)
}

// sipgoFrameNoise is sipgo's per-WebSocket-frame debug chatter, which it
// writes because the trace hook needs its debug flag on.
func sipgoFrameNoise(msg string) bool {
	return strings.HasPrefix(msg, "WS read connection header") || strings.HasPrefix(msg, "non-websocket header")
}

// sipgoRoutine tells sipgo's warnings that are routine, not a problem,
// and that name no call: written at debug. A connection (a browser's
// WebSocket, a phone's TCP) that closes under a transaction makes them;
// the leg it carried is ended, and logged with its call_id, by the
// connection-close hook.
func sipgoRoutine(msg string) bool {
	switch msg {
	case "WS ref went negative", "TCP ref went negative", // a transaction ending after its connection was closed
		"client transport error detected. Waiting for retransmission": // its connection closed under a client transaction
		return true
	}
	return false
}

// shortAttr truncates a string or error value.
func shortAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); len(s) > maxLogValue {
			return slog.String(a.Key, truncate(s, maxLogValue))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			if s := err.Error(); len(s) > maxLogValue {
				return slog.String(a.Key, truncate(s, maxLogValue))
			}
		}
	}
	return a
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	short := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		short[i] = shortAttr(a)
	}
	return &quietHandler{inner: h.inner.WithAttrs(short), notes: h.notes}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{inner: h.inner.WithGroup(name), notes: h.notes}
}
