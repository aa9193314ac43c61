package sipserver

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// RFC 4475 quirks get their own answers on UDP and TCP alike (WebSocket
// messages cross the same read filter as UDP datagrams): another SIP
// version 505, an unknown Require 420 with Unsupported, two Content-Length
// headers 400.
func TestRFC4475Quirks(t *testing.T) {
	s := startTestServer(t, Config{})
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
	for _, transport := range []string{"UDP", "TCP"} {
		for i, tt := range tests {
			t.Run(transport+" "+tt.name, func(t *testing.T) {
				c, err := net.Dial(strings.ToLower(transport), s.sip)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				cl := "Content-Length: 0\r\n"
				if strings.Contains(tt.extra, "Content-Length") {
					cl = ""
				}
				msg := tt.method + " sip:127.0.0.1 " + tt.startVersion + "\r\n" +
					"Via: SIP/2.0/" + transport + " " + c.LocalAddr().String() + ";branch=z9hG4bK4475" + transport + string(rune('a'+i)) + "\r\n" +
					"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: q" + tt.name + transport + "\r\n" +
					"CSeq: 1 " + tt.method + "\r\nMax-Forwards: 70\r\n" + tt.extra + cl + "\r\n"
				res := readAnswer(t, c, msg)
				if !strings.HasPrefix(res, tt.want) || !strings.Contains(res, tt.wantHeader) {
					t.Fatalf("want %q with %q, got:\n%s", tt.want, tt.wantHeader, res)
				}
			})
		}
	}
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
