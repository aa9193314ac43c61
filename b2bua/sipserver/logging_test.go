package sipserver

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// Junk does not turn into log volume: 20 KB of junk on each of 40 TCP
// connections, and 200 bad datagrams (junk, INVITEs without a From tag)
// from one source, leave a few short lines, none with the junk in full.
func TestLogBoundedUnderJunk(t *testing.T) {
	s := startTestServer(t, Config{})
	junk := strings.Repeat("junk ", 4000) + "\r\n\r\n"
	for i := 0; i < 40; i++ {
		c, err := dialFrom("", s.sip)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, junk)
		closedByServer(c, 2*time.Second)
		_ = c.Close()
	}
	u, err := net.Dial("udp", s.sip)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for i := 0; i < 100; i++ {
		_, _ = io.WriteString(u, junk[:8000])
		_, _ = fmt.Fprintf(u, "INVITE sip:1002@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\n"+
			"From: <sip:1001@127.0.0.1>\r\nTo: <sip:1002@127.0.0.1>\r\nCall-ID: notag-%d\r\nCSeq: 1 INVITE\r\n"+
			"Max-Forwards: 70\r\nX-Pad: %s\r\nContent-Length: 0\r\n\r\n", u.LocalAddr(), i, i, strings.Repeat("p", 1000))
	}
	mustRegister(t, s, "TCP") // and the server still serves
	time.Sleep(200 * time.Millisecond)
	logs := s.log.String()
	t.Logf("log after the junk:\n%.2000s", logs)
	if len(logs) > 6000 {
		t.Fatalf("%d bytes of log for the junk, want under 6000:\n%.3000s", len(logs), logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 1000 {
			t.Fatalf("a log line of %d bytes: %.300s...", len(line), line)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("abc", 5); got != "abc" {
		t.Fatalf("short: %q", got)
	}
	if got := truncate(strings.Repeat("x", 10), 4); got != "xxxx...(10 bytes)" {
		t.Fatalf("long: %q", got)
	}
}

// sipgo's routine warnings go to debug: gone at info, kept at debug.
func TestQuietLoggerRoutineToDebug(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  []string
	}{
		{slog.LevelInfo, []string{"level=WARN msg=\"Got TCP error\""}},
		{slog.LevelDebug, []string{"level=DEBUG msg=\"WS ref went negative\" ip=127.0.0.1:5 ref=-1", "level=WARN msg=\"Got TCP error\""}},
	} {
		var b strings.Builder
		l := QuietLogger(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: tc.level})))
		l.Warn("WS ref went negative", "ip", "127.0.0.1:5", "ref", -1)
		l.Warn("TCP ref went negative", "ip", "127.0.0.1:6", "ref", -1)
		l.Warn("client transport error detected. Waiting for retransmission", "tx", "z9hG4bK1__INVITE")
		l.Warn("Got TCP error", "error", "boom")
		got := b.String()
		for _, want := range tc.want {
			if !strings.Contains(got, want) {
				t.Errorf("at %v: log lacks %q:\n%s", tc.level, want, got)
			}
		}
		if strings.Contains(got, "level=WARN msg=\"WS ref") || strings.Contains(got, "level=WARN msg=\"TCP ref") || strings.Contains(got, "level=WARN msg=\"client transport") {
			t.Errorf("at %v: a routine warning stayed a warning:\n%s", tc.level, got)
		}
		if tc.level == slog.LevelInfo && strings.Contains(got, "WS ref") {
			t.Errorf("at info: routine chatter written:\n%s", got)
		}
	}
}
