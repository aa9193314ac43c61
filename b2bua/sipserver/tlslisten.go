package sipserver

import (
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// tlsListener completes each TLS handshake on its own goroutine, bounded
// by a timeout, before handing the connection to sipgo. A peer that opens
// a connection and never finishes the handshake (or sends something that
// is not TLS) costs a goroutine for at most the timeout, never an error
// line per connection, and never holds up other connections.
type tlsListener struct {
	inner   net.Listener // a guardedListener of raw TCP connections
	conf    *tls.Config
	timeout time.Duration
	log     *slog.Logger
	notes   *ratelog.Limiter

	ready chan net.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newTLSListener(inner net.Listener, conf *tls.Config, timeout time.Duration, log *slog.Logger, notes *ratelog.Limiter) *tlsListener {
	l := &tlsListener{inner: inner, conf: conf, timeout: timeout, log: log, notes: notes,
		ready: make(chan net.Conn), done: make(chan struct{})}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

func (l *tlsListener) acceptLoop() {
	defer l.wg.Done()
	for {
		c, err := l.inner.Accept()
		if err != nil {
			return // closed: the guarded listener retries every other error itself
		}
		l.wg.Add(1)
		go l.handshake(c)
	}
}

func (l *tlsListener) handshake(raw net.Conn) {
	defer l.wg.Done()
	// The handshake's deadline covers reads and writes; the idle deadline
	// (no request yet) applies again once it is done.
	_ = raw.SetDeadline(time.Now().Add(l.timeout))
	tc := tls.Server(raw, l.conf)
	err := tc.Handshake()
	_ = raw.SetDeadline(time.Time{})
	if gc, ok := raw.(*guardConn); ok {
		gc.restoreIdle()
	}
	if err != nil {
		_ = tc.Close()
		host := sourcekey.Host(raw.RemoteAddr().String())
		l.notes.Info(l.log, "tls handshake", host, "TLS handshake failed", "source", host, "error", ratelog.Truncate(err.Error(), ratelog.MaxValue))
		return
	}
	select {
	case l.ready <- tc:
	case <-l.done:
		_ = tc.Close()
	}
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *tlsListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

func (l *tlsListener) Addr() net.Addr { return l.inner.Addr() }
