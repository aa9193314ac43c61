package sipserver

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// RFC 4475 quirks get their own answers on every transport (WebSocket
// messages cross the same read filter as UDP datagrams, TCP and TLS the
// stream parser): another SIP version 505, an unknown Require 420 with
// Unsupported, two Content-Length headers 400.
func TestRFC4475Quirks(t *testing.T) {
	s := startTestServer(t, Config{})
	hs := httptest.NewServer(s.WebSocketHandler(false))
	defer hs.Close()
	tests := []struct {
		name, method, startVersion, extra string
		want, wantHeader                  string
	}{
		{"badvers", "OPTIONS", "SIP/7.0", "", "SIP/2.0 505 ", ""},
		{"bext01 OPTIONS", "OPTIONS", "SIP/2.0", "Require: newfeature1, timer\r\n", "SIP/2.0 420 ", "Unsupported: newfeature1"},
		{"bext01 REGISTER", "REGISTER", "SIP/2.0", "Require: newfeature2\r\n", "SIP/2.0 420 ", "Unsupported: newfeature2"},
		{"supported Require", "REGISTER", "SIP/2.0", "Require: timer\r\n", "SIP/2.0 200 ", ""},
		{"mcl01", "REGISTER", "SIP/2.0", "Content-Length: 0\r\nl: 0\r\n", "SIP/2.0 400 ", ""},
	}
	for _, transport := range []string{"UDP", "TCP", "TLS", "WS"} {
		for i, tt := range tests {
			t.Run(transport+" "+tt.name, func(t *testing.T) {
				c, exchange := quirkConn(t, s, hs.URL, transport)
				cl := "Content-Length: 0\r\n"
				if strings.Contains(tt.extra, "Content-Length") {
					cl = ""
				}
				msg := tt.method + " sip:127.0.0.1 " + tt.startVersion + "\r\n" +
					"Via: SIP/2.0/" + transport + " " + c.LocalAddr().String() + ";branch=z9hG4bK4475" + transport + string(rune('a'+i)) + "\r\n" +
					"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: q" + tt.name + transport + "\r\n" +
					"CSeq: 1 " + tt.method + "\r\nMax-Forwards: 70\r\n" + tt.extra + cl + "\r\n"
				res := exchange(msg)
				if !strings.HasPrefix(res, tt.want) || !strings.Contains(res, tt.wantHeader) {
					t.Fatalf("want %q with %q, got:\n%s", tt.want, tt.wantHeader, res)
				}
			})
		}
	}
}

// quirkConn connects to s over transport (wsURL is the http:// address
// of its WebSocket handler) and returns the connection and a function that
// sends a request on it and returns the answer's header section.
func quirkConn(t *testing.T, s *testServer, wsURL, transport string) (net.Conn, func(string) string) {
	t.Helper()
	var c net.Conn
	var err error
	switch transport {
	case "TLS":
		c, err = tls.Dial("tcp", s.tls, &tls.Config{InsecureSkipVerify: true})
	case "WS":
		c = dialWS(t, "ws"+strings.TrimPrefix(wsURL, "http"))
		return c, func(msg string) string {
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			if err := wsutil.WriteClientText(c, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			res, err := wsutil.ReadServerText(c)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			head, _, _ := strings.Cut(string(res), "\r\n\r\n")
			return head + "\r\n"
		}
	default:
		c, err = net.Dial(strings.ToLower(transport), s.sip)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, func(msg string) string { return readAnswer(t, c, msg) }
}

// readAnswer sends msg on c and returns the answer's header section.
func readAnswer(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(c)
	var b strings.Builder
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the answer: %v (so far %q)", err, b.String())
		}
		if line == "\r\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}
