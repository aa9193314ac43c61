package sipserver

import (
	"crypto/tls"
	"net"
	"time"
)

// GuardHTTP wraps the listener of an HTTP server that carries SIP over
// WebSocket (the web phone's HTTPS or plain WS port, name "https" or
// "http"): its connections count in the same ceiling and per-source cap
// as SIP's TCP and TLS ones, and its accept survives running out of
// descriptors. Without it, idle keep-alive connections to that port held
// descriptors with no bound at all. A connection upgraded to a WebSocket
// stays counted once (see adopt); the HTTP server bounds the time before
// and between requests itself (HTTPIdleTimeout, ReadHeaderTimeout).
func (s *Server) GuardHTTP(l net.Listener, name string) net.Listener {
	return newGuardedListener(l, name, s.guard, s.exemptFunc)
}

// HTTPIdleTimeout is how long an HTTP server carrying WebSockets should
// keep an idle keep-alive connection: the idle timeout of SIP connections.
func (s *Server) HTTPIdleTimeout() time.Duration { return s.guard.cfg.IdleTimeout }

// guardedUnder returns the guarded connection under a hijacked one (plain,
// or TLS over a guarded connection), or nil.
func guardedUnder(c net.Conn) *guardConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	gc, _ := c.(*guardConn)
	return gc
}

// adopt re-files an admitted connection under transport (an HTTP
// connection upgraded to "ws" or "wss"), so that a request on it finds it,
// and restarts its idle timeout: closed unless it registers in time.
func (g *connGuard) adopt(transport string, gc *guardConn) {
	key := transport + " " + gc.RemoteAddr().String()
	g.mu.Lock()
	if g.byConn[gc.key] == gc {
		delete(g.byConn, gc.key)
	}
	gc.key = key
	g.byConn[key] = gc
	g.mu.Unlock()
	gc.extend()
}
