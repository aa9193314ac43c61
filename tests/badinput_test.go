package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Malformed input gets a clear answer (or is dropped when no answer is
// possible), and the server keeps serving.
func TestMalformedInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	const via = "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbad%d;rport\r\n"
	base := func(n int, method, headers, body string) string {
		return method + " sip:127.0.0.1 SIP/2.0\r\n" + strings.Replace(via, "%d", strings.Repeat("x", n), 1) +
			headers + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	std := "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: bad-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
	tests := []struct {
		name     string
		msg      string
		wantCode int    // 0: no answer expected
		wantWarn string // substring of the Warning header
	}{
		{"text garbage", "hello world\r\n\r\n", 0, ""},
		{"binary garbage", "\x00\x01\x02\xff\xfe binary \x07\x08", 0, ""},
		{"bad start line", "OPTIONS sip:127.0.0.1\r\n" + strings.Replace(via, "%d", "a", 1) + std + "\r\n", 400, "unparseable"},
		{"missing Call-ID", base(1, "OPTIONS", "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCSeq: 1 OPTIONS\r\n", ""), 400, "Call-ID"},
		{"missing CSeq", base(2, "OPTIONS", "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: bad-2\r\n", ""), 400, "CSeq"},
		{"missing From", base(3, "OPTIONS", "To: <sip:b@h>\r\nCall-ID: bad-3\r\nCSeq: 1 OPTIONS\r\n", ""), 400, "From"},
		{"CSeq method mismatch", base(4, "OPTIONS", strings.Replace(std, "1 OPTIONS", "1 INVITE", 1), ""), 400, "CSeq method"},
		{"Content-Length too large", strings.Replace(base(5, "OPTIONS", std, "v=0\r\n"), "Content-Length: 5", "Content-Length: 500", 1), 400, ""},
		{"broken From", base(6, "OPTIONS", strings.Replace(std, "<sip:a@h>;tag=1", "<sip:broken", 1), ""), 400, ""},
		{"oversized", base(7, "OPTIONS", std+"X-Pad: "+strings.Repeat("a", 20000)+"\r\n", ""), 513, "exceeds"},
		{"no Via: nothing to answer along", "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" + std + "Content-Length: 0\r\n\r\n", 0, ""},
		{"unknown method", base(8, "FROB", strings.Replace(std, "1 OPTIONS", "1 FROB", 1), ""), 405, ""},
		{"ACK without transaction", base(9, "ACK", strings.Replace(std, "1 OPTIONS", "1 ACK", 1), ""), 0, ""},
	}
	c := dialSIP(t, s, "udp")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.sendRaw([]byte(tt.msg))
			// Read raw text: an answer to a request with a broken From
			// echoes that From, which a strict parser would refuse.
			raw := string(c.recvRaw(700 * time.Millisecond))
			if tt.wantCode == 0 {
				if raw != "" {
					t.Fatalf("answered, want no answer:\n%s", raw)
				}
				return
			}
			if raw == "" {
				t.Fatalf("no answer, want %d", tt.wantCode)
			}
			if !strings.HasPrefix(raw, "SIP/2.0 "+strconv.Itoa(tt.wantCode)+" ") {
				t.Fatalf("want %d, got:\n%s", tt.wantCode, raw)
			}
			if !strings.Contains(raw, "Call-ID: ") && tt.name != "missing Call-ID" {
				t.Fatalf("answer without the request's Call-ID:\n%s", raw)
			}
			if tt.wantWarn != "" && !regexp.MustCompile(`(?m)^Warning: 399 .*`+regexp.QuoteMeta(tt.wantWarn)).MatchString(raw) {
				t.Fatalf("Warning does not mention %q:\n%s", tt.wantWarn, raw)
			}
			if tt.wantCode == 405 && !strings.Contains(raw, "\r\nAllow: ") {
				t.Fatalf("405 without Allow:\n%s", raw)
			}
		})
	}
	s.alive()

	t.Run("websocket survives garbage", func(t *testing.T) {
		ws := dialSIP(t, s, "ws")
		ws.sendRaw([]byte("definitely not SIP"))
		ws.sendRaw([]byte("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bKq\r\nCSeq: 1 OPTIONS\r\n\r\n"))
		if res := ws.mustRecv(400); !strings.Contains(res.GetHeader("Warning").Value(), "From") {
			t.Fatalf("Warning does not name the missing header:\n%s", res)
		}
		ws.login("1001", testUsers["1001"], 600, "") // same socket still registers
	})
	t.Run("tcp garbage closes only that connection", func(t *testing.T) {
		bad := dialSIP(t, s, "tcp")
		bad.sendRaw([]byte("\x00\x01\x02\x03 binary"))
		_ = bad.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := bad.rd.ReadByte(); err == nil {
			t.Fatal("connection carrying binary garbage was kept open")
		}
		dialSIP(t, s, "tcp").login("1002", testUsers["1002"], 600, "")
	})
	// Finally a real client still registers.
	sippRun{scenario: "register.xml", transport: "udp", users: [][2]string{{"1001", testUsers["1001"]}},
		keys: map[string]string{"expires": "300"}}.mustPass(t, s.addr("udp"))
	s.alive()
}
