package sipserver

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// A WebSocket that never registers is closed after the idle timeout, even
// when it sends other requests; one whose REGISTER got a 200 stays.
func TestWebSocketIdleUntilRegistered(t *testing.T) {
	s := startTestServer(t, Config{Conns: ConnLimits{IdleTimeout: 600 * time.Millisecond}})
	hs := httptest.NewServer(s.WebSocketHandler(false))
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	idle, chatty, registered := dialWS(t, url), dialWS(t, url), dialWS(t, url)
	if err := wsutil.WriteClientText(registered, wsMessage("REGISTER", "ws-reg")); err != nil {
		t.Fatal(err)
	}
	_ = registered.SetReadDeadline(time.Now().Add(3 * time.Second))
	if res, err := wsutil.ReadServerText(registered); err != nil || !strings.HasPrefix(string(res), "SIP/2.0 200") {
		t.Fatalf("REGISTER over WS: %q %v", res, err)
	}
	// chatty sends OPTIONS twice within the timeout but never registers.
	for i := 0; i < 2; i++ {
		time.Sleep(300 * time.Millisecond)
		_ = wsutil.WriteClientText(chatty, wsMessage("OPTIONS", "ws-opt"+string(rune('a'+i))))
		_ = chatty.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = wsutil.ReadServerText(chatty)
	}
	if !closedByServer(idle, 2*time.Second) {
		t.Fatal("a WebSocket that sent nothing was kept past the idle timeout")
	}
	if !closedByServer(chatty, 2*time.Second) {
		t.Fatal("a WebSocket that never registered was kept past the idle timeout")
	}
	if closedByServer(registered, 1500*time.Millisecond) {
		t.Fatal("a registered WebSocket was closed as idle")
	}
}

// dialWS opens a SIP WebSocket to url, closed when the test ends.
func dialWS(t *testing.T, url string) net.Conn {
	t.Helper()
	c, _, _, err := ws.Dialer{Protocols: []string{"sip"}, Timeout: 2 * time.Second}.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// wsMessage is an out-of-dialog request as a web phone sends it.
func wsMessage(method, callID string) []byte {
	return []byte(method + " sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK" + callID + "\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: " + callID + "\r\nCSeq: 1 " + method + "\r\n" +
		"Contact: <sip:1001@a.invalid;transport=ws>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
}
