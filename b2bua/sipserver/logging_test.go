package sipserver

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
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
	// Binary data on connections from 20 addresses: our filter's line for
	// each, not sipgo's as well.
	for i := 0; i < 20; i++ {
		c, err := dialFrom(fmt.Sprintf("127.0.4.%d", i+1), s.sip)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("\x00\x01\x02\xff binary"))
		closedByServer(c, 2*time.Second)
		_ = c.Close()
	}
	mustRegister(t, s, "TCP") // and the server still serves
	time.Sleep(200 * time.Millisecond)
	logs := s.log.String()
	if n := strings.Count(logs, "binary data on stream transport"); n != 20 {
		t.Errorf("%d lines for binary data from 20 addresses, want 20", n)
	}
	if strings.Contains(logs, "Read filter error") {
		t.Errorf("sipgo logged our filter's refusal again:\n%.2000s", logs)
	}
	t.Logf("log after the junk:\n%.2000s", logs)
	if len(logs) > 12000 {
		t.Fatalf("%d bytes of log for the junk, want under 12000:\n%.3000s", len(logs), logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 1000 {
			t.Fatalf("a log line of %d bytes: %.300s...", len(line), line)
		}
	}
}

// Responses that match no transaction of ours (a scanner sprays them from
// ever new ports) make one line per source per interval, not one each.
func TestUnhandledResponsesLoggedOnce(t *testing.T) {
	s := startTestServer(t, Config{})
	before := strings.Count(sipgoDefaultLog.String(), "Unhandled sip response")
	for i := 0; i < 50; i++ {
		u, err := net.Dial("udp", s.sip)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fmt.Fprintf(u, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKstray%d\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\n"+
			"To: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: stray-%d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", s.sip, i, i)
		_ = u.Close()
	}
	mustRegister(t, s, "UDP") // the server still serves, and has read the datagrams before it
	time.Sleep(200 * time.Millisecond)
	if n := strings.Count(sipgoDefaultLog.String(), "Unhandled sip response") - before; n > 0 {
		t.Fatalf("sipgo logged %d of 50 stray responses from one address itself", n)
	}
	logs := s.log.String()
	if n := strings.Count(logs, "\n"); n > 3 {
		t.Fatalf("%d log lines for 50 stray responses from one address:\n%.3000s", n, logs)
	}
	if !strings.Contains(logs, "response matching no transaction ignored") {
		t.Fatalf("stray responses not noted at all:\n%s", logs)
	}
}

// sipgoDefaultLog collects what sipgo writes to its default logger, which
// cmd/softswitch points at our log (sip.SetDefaultLogger is not safe to
// change while servers run, so it is set once, here).
var sipgoDefaultLog lockedBuffer

func TestMain(m *testing.M) {
	sip.SetDefaultLogger(QuietLogger(slog.New(slog.NewTextHandler(&sipgoDefaultLog, nil))))
	os.Exit(m.Run())
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
