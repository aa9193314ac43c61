package sipserver

import (
	"net"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// trackedListener wraps a stream listener so that every accepted
// connection reports its closing. sipgo closes a connection when its reader
// ends (peer closed, read error, framing error), which is the moment a
// binding made over it stops being reachable.
type trackedListener struct {
	net.Listener
	transport string
	onClose   func(transport, remote string, wsCode int)
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newTrackedConn(c, l.transport, l.onClose, nil), nil
}

type trackedConn struct {
	net.Conn
	transport string
	remote    string
	once      sync.Once
	onClose   func(transport, remote string, wsCode int)
	wsCode    func() int // how a WebSocket ended; nil for TCP and TLS
}

func newTrackedConn(c net.Conn, transport string, onClose func(transport, remote string, wsCode int), wsCode func() int) *trackedConn {
	return &trackedConn{Conn: c, transport: transport, remote: c.RemoteAddr().String(), onClose: onClose, wsCode: wsCode}
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if c.onClose != nil {
			code := 0
			if c.wsCode != nil {
				code = c.wsCode()
			}
			c.onClose(c.transport, c.remote, code)
		}
	})
	return err
}

// chanListener is a net.Listener fed by an HTTP handler that hijacks
// WebSocket upgrade requests, so SIP over WebSocket shares the HTTPS origin
// (and certificate) of the web phone.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// push hands a connection to the acceptor; false when the listener is closed.
func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// prefixConn replays bytes already read (the HTTP upgrade request) before
// reading from the connection itself.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// seen notes that a valid request arrived on its connection: on TCP and
// TLS that lifts the connection's idle timeout; on a WebSocket it only
// extends it (a WebSocket must register to stay).
func (s *Server) seen(req *sip.Request) {
	t := sip.NetworkToLower(req.Transport())
	gc := s.guard.lookup(t, req.Source())
	switch {
	case gc == nil:
	case t == "tcp" || t == "tls":
		gc.markActive()
	default:
		gc.extend()
	}
}

// registered lifts the idle timeout of a WebSocket whose REGISTER got a
// 2xx, when res answers one.
func (s *Server) registered(tx sip.ServerTransaction, res *sip.Response) {
	if res.StatusCode < 200 || res.StatusCode > 299 || res.CSeq() == nil || res.CSeq().MethodName != sip.REGISTER {
		return
	}
	o, ok := tx.(interface{ Origin() *sip.Request })
	if !ok || o.Origin() == nil {
		return
	}
	req := o.Origin()
	if gc := s.guard.lookup(sip.NetworkToLower(req.Transport()), req.Source()); gc != nil {
		gc.markActive()
	}
}

// exemptFunc is the current rate-limit exemption (carriers), or nil.
func (s *Server) exemptFunc() func(string) bool {
	if p := s.limiter.exempt.Load(); p != nil {
		return *p
	}
	return nil
}
