package sipserver

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// Hostile input must not turn into log volume (package ratelog): a line
// about bad input is written at most once per source and kind per
// interval, and sipgo's own warnings once per message and source.
const (
	noteEvery     = time.Minute      // one line per source and kind
	sipgoLogEvery = 10 * time.Second // one sipgo warning/error per message and source
)

// unhandledResponse notes a response that matches none of our client
// transactions (a late retransmission, or a scanner spraying responses):
// sipgo's default wrote a line for each one, from any source port.
func (s *Server) unhandledResponse(r *sip.Response) {
	src := sourcekey.Host(r.Source())
	s.notes.Info(s.log, "unhandled response", src, "response matching no transaction ignored",
		"source", src, "status", r.StatusCode, "call_id", callIDOf(r))
}

func callIDOf(m sip.Message) string {
	if id := m.CallID(); id != nil {
		return id.Value()
	}
	return ""
}

// QuietLogger wraps l for sipgo: its values are truncated (sipgo logs a
// whole unparseable message as "data") and its warnings and errors are
// written once per message text and remote address per 10 s.
func QuietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(&quietHandler{inner: l.Handler(), notes: ratelog.New(sipgoLogEvery)})
}

type quietHandler struct {
	inner slog.Handler
	notes *ratelog.Limiter
}

func (h *quietHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo && sipgoFrameNoise(r.Message) {
		return nil // the SIP trace (trace.go) shows the messages themselves
	}
	if r.Message == "Read filter error" {
		return nil // our read filter logged why it refused the data (filter.noteBad)
	}
	level := r.Level
	if level >= slog.LevelWarn && sipgoRoutine(r.Message) {
		if level = slog.LevelDebug; !h.inner.Enabled(ctx, level) {
			return nil
		}
	}
	out := slog.NewRecord(r.Time, level, ratelog.Truncate(r.Message, ratelog.MaxValue), r.PC)
	source := ""
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "raddr", "src", "source", "dst":
			source = sourcekey.Host(a.Value.String())
		}
		out.AddAttrs(shortAttr(a))
		return true
	})
	if level >= slog.LevelWarn {
		v := h.notes.Allow(r.Message, source)
		if !v.OK {
			return nil
		}
		if v.Dropped > 0 {
			out.AddAttrs(slog.Int("suppressed", v.Dropped))
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
		if s := v.String(); len(s) > ratelog.MaxValue {
			return slog.String(a.Key, ratelog.Truncate(s, ratelog.MaxValue))
		}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			if s := err.Error(); len(s) > ratelog.MaxValue {
				return slog.String(a.Key, ratelog.Truncate(s, ratelog.MaxValue))
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
