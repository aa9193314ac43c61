package sipserver

import (
	"bytes"
	"net"
	"net/http"
	"strings"
)

// WebSocketHandler returns the handler to mount at /ws on the HTTPS (secure)
// or plain HTTP mux. It checks that the request is a WebSocket upgrade,
// hijacks the connection and hands it, with the request replayed, to sipgo's
// WS or WSS transport, which completes the RFC 6455 handshake with the "sip"
// subprotocol (RFC 7118).
func (s *Server) WebSocketHandler(secure bool) http.Handler {
	transport := "ws"
	if secure {
		transport = "wss"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isWebSocketUpgrade(r) {
			w.Header().Set("Upgrade", "websocket")
			http.Error(w, "this endpoint speaks SIP over WebSocket (RFC 7118): send a WebSocket upgrade with subprotocol \"sip\"", http.StatusUpgradeRequired)
			return
		}
		if s.draining.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		l := s.wsListener(transport, r.Context().Value(http.LocalAddrContextKey))
		if l == nil {
			http.Error(w, "websocket transport not running", http.StatusServiceUnavailable)
			return
		}
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			s.notePort("ws", a, transport)
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "connection cannot be upgraded", http.StatusInternalServerError)
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			s.log.Warn("websocket hijack failed", "remote", r.RemoteAddr, "error", err)
			return
		}
		var replay bytes.Buffer
		if err := r.Write(&replay); err != nil {
			s.log.Warn("websocket replay failed", "remote", r.RemoteAddr, "error", err)
			_ = conn.Close()
			return
		}
		var extra []byte // WebSocket frames the HTTP server read ahead
		if n := brw.Reader.Buffered(); n > 0 {
			extra, _ = brw.Reader.Peek(n)
			replay.Write(extra)
		}
		// Counted with the other stream connections (once: an HTTP
		// listener under GuardHTTP counted it already), and closed unless it
		// registers within the idle timeout.
		var sipConn net.Conn
		if gc := guardedUnder(conn); gc != nil {
			s.guard.adopt(transport, gc)
			sipConn = conn
		} else if gc := s.guard.admit(transport, conn, s.exemptFunc()); gc != nil {
			sipConn = gc
		} else {
			return
		}
		wc := newWSCloseConn(sipConn, extra) // sipgo keeps the close code to itself
		tc := newTrackedConn(&prefixConn{Conn: wc, prefix: replay.Bytes()}, transport, s.connClosed, wc.CloseCode)
		if !l.push(tc) {
			_ = sipConn.Close()
		}
	})
}

func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHasToken(r.Header.Get("Connection"), "upgrade")
}

func headerHasToken(v, token string) bool {
	for _, part := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(part), token) {
			return true
		}
	}
	return false
}

// wsListener returns (starting on first use) the listener that feeds sipgo's
// WS or WSS transport.
func (s *Server) wsListener(transport string, local any) *chanListener {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if l := s.wsListeners[transport]; l != nil {
		return l
	}
	addr, _ := local.(net.Addr)
	if addr == nil {
		addr = &net.TCPAddr{}
	}
	l := newChanListener(addr)
	s.wsListeners[transport] = l
	serve := s.srv.ServeWS
	if transport == "wss" {
		serve = s.srv.ServeWSS
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = serve(l)
	}()
	return l
}
