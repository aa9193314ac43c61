package ratelog

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTest() (*Limiter, *clock, *slog.Logger, *bytes.Buffer) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(time.Minute)
	l.now = c.now
	var buf bytes.Buffer
	return l, c, slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// One source: one line per interval, the next one counts what was left out.
func TestOncePerSourcePerInterval(t *testing.T) {
	l, c, log, buf := newTest()
	for i := 0; i < 50; i++ {
		l.Warn(log, "bad input", "192.0.2.1", "bad SIP input", "reason", "junk")
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.Contains(buf.String(), "count=1") {
		t.Fatalf("50 events from one source in an interval: %d lines:\n%s", n, buf)
	}
	l.Warn(log, "other kind", "192.0.2.1", "other") // kinds are counted apart
	c.t = c.t.Add(time.Minute)
	buf.Reset()
	l.Warn(log, "bad input", "192.0.2.1", "bad SIP input")
	if !strings.Contains(buf.String(), "count=50") {
		t.Fatalf("the next interval's line does not count the 49 left out and itself:\n%s", buf)
	}
}

// Many sources (spoofed UDP costs nothing): at most PerKind lines of a kind
// per interval; the first line of the next interval says how many were
// left out.
func TestCeilingPerKind(t *testing.T) {
	l, c, log, buf := newTest()
	for i := 0; i < 5*PerKind; i++ {
		l.Info(log, "bad input", fmt.Sprintf("198.51.%d.%d:5060", i/250, i%250), "bad SIP input")
	}
	if n := strings.Count(buf.String(), "\n"); n != PerKind {
		t.Fatalf("%d sources: %d lines, want %d", 5*PerKind, n, PerKind)
	}
	c.t = c.t.Add(time.Minute)
	buf.Reset()
	l.Info(log, "bad input", "203.0.113.9", "bad SIP input")
	if !strings.Contains(buf.String(), fmt.Sprintf("kind_suppressed=%d", 4*PerKind)) {
		t.Fatalf("the ceiling's drops not reported:\n%s", buf)
	}
}

func TestValuesTruncated(t *testing.T) {
	l, _, log, buf := newTest()
	e := &Event{lim: l, log: log, level: slog.LevelWarn, msg: "call refused"}
	e.Note("192.0.2.7:5060", "destination", strings.Repeat("9", 3000))
	out := buf.String()
	if len(out) > 400 || !strings.Contains(out, "(3000 bytes)") || !strings.Contains(out, "source=192.0.2.7 count=1 destination=") {
		t.Fatalf("line of %d bytes:\n%s", len(out), out)
	}
	if got := Truncate("abc", 5); got != "abc" {
		t.Fatalf("short: %q", got)
	}
	if got := Truncate(strings.Repeat("x", 10), 4); got != "xxxx...(10 bytes)" {
		t.Fatalf("long: %q", got)
	}
}
