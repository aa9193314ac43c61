package sipserver

import (
	"net"
	"sync"
)

// trackedListener wraps a stream listener so that every accepted
// connection reports its closing. sipgo closes a connection when its reader
// ends (peer closed, read error, framing error), which is the moment a
// binding made over it stops being reachable.
type trackedListener struct {
	net.Listener
	transport string
	onClose   func(transport, remote string)
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newTrackedConn(c, l.transport, l.onClose), nil
}

type trackedConn struct {
	net.Conn
	transport string
	remote    string
	once      sync.Once
	onClose   func(transport, remote string)
}

func newTrackedConn(c net.Conn, transport string, onClose func(transport, remote string)) *trackedConn {
	return &trackedConn{Conn: c, transport: transport, remote: c.RemoteAddr().String(), onClose: onClose}
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		if c.onClose != nil {
			c.onClose(c.transport, c.remote)
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
