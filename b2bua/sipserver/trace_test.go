package sipserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/softswitch/softswitch/b2bua/siptrace"
)

// Every transport's messages reach the tracer, both ways, named by their
// transport (TLS and WS told apart from TCP by the listener's port).
func TestTraceEveryTransport(t *testing.T) {
	s := startTestServer(t, Config{})
	tr := siptrace.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.SetTracer(tr)
	sub := tr.Subscribe(siptrace.Filter{Ext: "1001", Method: "REGISTER"})
	defer tr.Unsubscribe(sub)

	mustRegister(t, s, "TCP")
	mustRegister(t, s, "TLS")
	udp, err := net.Dial("udp", s.sip)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	if line, err := register(udp, "UDP"); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("UDP REGISTER: %q %v", line, err)
	}
	hs := httptest.NewServer(s.WebSocketHandler(false))
	defer hs.Close()
	c, _, _, err := ws.Dialer{Protocols: []string{"sip"}, Timeout: 2 * time.Second}.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bKws1\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: ws1\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:1001@a.invalid;transport=ws>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if err := wsutil.WriteClientText(c, []byte(reg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := wsutil.ReadServerText(c); err != nil {
		t.Fatal(err)
	}

	want := map[string]bool{}
	for _, tp := range []string{"TCP", "TLS", "UDP", "WS"} {
		want["recv "+tp] = false
		want["sent "+tp] = false
	}
	deadline := time.After(10 * time.Second)
	for missing := len(want); missing > 0; {
		select {
		case m := <-sub.C:
			f := strings.Fields(m)
			key := f[1] + " " + f[2]
			if done, ok := want[key]; ok && !done {
				want[key] = true
				missing--
			}
			if f[1] == "recv" && !strings.Contains(m, "\nREGISTER sip:127.0.0.1 SIP/2.0\n") ||
				f[1] == "sent" && !strings.Contains(m, "\nSIP/2.0 200 OK\n") {
				t.Errorf("unexpected trace:\n%s", m)
			}
		case <-deadline:
			t.Fatalf("not traced: %v", want)
		}
	}
}
