package sipserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// The HTTP port that carries WebSockets is guarded like SIP's stream
// ports: its connections count in the per-source cap, an idle keep-alive
// is closed after the idle timeout, and a connection upgraded to a
// WebSocket counts once and must still register to stay.
func TestHTTPPortGuarded(t *testing.T) {
	s := startTestServer(t, Config{Conns: ConnLimits{PerSource: 3, IdleTimeout: 600 * time.Millisecond}})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", s.WebSocketHandler(false))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "page") })
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: s.HTTPIdleTimeout()}
	go func() { _ = hs.Serve(s.GuardHTTP(raw, "http")) }()
	t.Cleanup(func() { _ = hs.Close() })
	addr := raw.Addr().String()

	var held []net.Conn
	for i := 0; i < 3; i++ {
		c, err := dialFrom("127.0.0.5", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	waitOpen(t, s, 3)
	extra, err := dialFrom("127.0.0.5", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if !closedByServer(extra, time.Second) {
		t.Fatal("a fourth HTTP connection from one source was kept (per_source 3)")
	}
	for _, c := range held {
		_ = c.Close()
	}
	waitOpen(t, s, 0)

	page, err := dialFrom("", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	_ = page.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(page, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(page), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /: %v %v", res, err)
	}
	if !closedByServer(page, 2*time.Second) {
		t.Fatal("an idle keep-alive HTTP connection was kept past the idle timeout")
	}

	url := "ws://" + addr + "/ws"
	idle, registered := dialWS(t, url), dialWS(t, url)
	waitOpen(t, s, 2) // an upgraded connection is counted once
	if err := wsutil.WriteClientText(registered, wsMessage("REGISTER", "guarded-reg")); err != nil {
		t.Fatal(err)
	}
	_ = registered.SetReadDeadline(time.Now().Add(3 * time.Second))
	if msg, err := wsutil.ReadServerText(registered); err != nil || !strings.HasPrefix(string(msg), "SIP/2.0 200") {
		t.Fatalf("REGISTER over an upgraded guarded connection: %q %v", msg, err)
	}
	if !closedByServer(idle, 2*time.Second) {
		t.Fatal("a WebSocket that never registered was kept past the idle timeout")
	}
	if closedByServer(registered, 1500*time.Millisecond) {
		t.Fatal("a registered WebSocket was closed as idle")
	}
	waitOpen(t, s, 1)
}
