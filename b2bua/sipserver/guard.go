package sipserver

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// ConnLimits bounds the connections of the stream transports (TCP, TLS,
// WS, WSS), so that idle or hostile connections cannot use up the
// process's file descriptors. Zero values mean the defaults.
type ConnLimits struct {
	// Max is the ceiling of open connections, all stream transports
	// together; beyond it a new connection is closed at once. Default 10000;
	// cmd/softswitch sets it below the process's descriptor limit.
	Max int `yaml:"max"`
	// PerSource is the ceiling of open connections from one IP address
	// (configured carriers are exempt); default 100.
	PerSource int `yaml:"per_source"`
	// IdleTimeout closes a connection that sends no request this long
	// after it opened (for WebSockets: that does not register); default 30s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// HandshakeTimeout bounds a TLS handshake; default 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
}

// Defaults of ConnLimits.
const (
	DefaultMaxConns         = 10000
	DefaultConnsPerSource   = 100
	DefaultIdleTimeout      = 30 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
)

// WithDefaults fills in the defaults of the zero fields.
func (c ConnLimits) WithDefaults() ConnLimits {
	if c.Max <= 0 {
		c.Max = DefaultMaxConns
	}
	if c.PerSource <= 0 {
		c.PerSource = DefaultConnsPerSource
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	return c
}

// acceptBackoff bounds the pause after a failed accept (EMFILE, ENFILE,
// ENOBUFS...), doubling from its minimum as net/http does.
const (
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// connGuard admits stream connections under ConnLimits and remembers the
// open ones, so a request handled on one can lift its idle timeout.
type connGuard struct {
	cfg    ConnLimits
	log    *slog.Logger
	notes  *ratelog.Limiter
	exempt func(host string) bool // may be nil

	mu     sync.Mutex
	total  int
	bySrc  map[string]int
	byConn map[string]*guardConn // by transport + " " + remote address
}

func newConnGuard(cfg ConnLimits, log *slog.Logger, notes *ratelog.Limiter) *connGuard {
	return &connGuard{cfg: cfg.WithDefaults(), log: log, notes: notes,
		bySrc: make(map[string]int), byConn: make(map[string]*guardConn)}
}

// Open is the number of open guarded connections, for tests and status.
func (g *connGuard) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.total
}

// admit wraps c when the limits allow it, or closes it and returns nil.
func (g *connGuard) admit(transport string, c net.Conn, exempt func(string) bool) *guardConn {
	remote := c.RemoteAddr().String()
	host := sourcekey.Host(remote)
	src := sourcekey.Of(host) // an IPv6 /64 is one source
	free := exempt != nil && exempt(host)
	g.mu.Lock()
	var why string
	switch {
	case g.total >= g.cfg.Max:
		why = "connection ceiling reached"
	case !free && g.bySrc[src] >= g.cfg.PerSource:
		why = "per-source connection limit reached"
	}
	if why != "" {
		g.mu.Unlock()
		_ = c.Close()
		g.notes.Warn(g.log, why, src, "connection refused", "transport", transport, "source", src, "reason", why,
			"open", g.open(), "max", g.cfg.Max, "per_source", g.cfg.PerSource)
		return nil
	}
	g.total++
	g.bySrc[src]++
	gc := &guardConn{Conn: c, guard: g, key: transport + " " + remote, src: src, opened: time.Now()}
	g.byConn[gc.key] = gc
	g.mu.Unlock()
	gc.restoreIdle()
	return gc
}

func (g *connGuard) release(gc *guardConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.bySrc[gc.src]--; g.bySrc[gc.src] <= 0 {
		delete(g.bySrc, gc.src)
	}
	if g.byConn[gc.key] == gc {
		delete(g.byConn, gc.key)
	}
}

// lookup finds the open connection of transport ("tcp", "tls", "ws",
// "wss") from remote, or nil.
func (g *connGuard) lookup(transport, remote string) *guardConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.byConn[transport+" "+remote]
}

// guardConn is an admitted connection: it counts until closed, and until
// it is marked active a read past its idle deadline ends it as if the peer
// had closed (io.EOF: sipgo then closes it without an error line).
type guardConn struct {
	net.Conn
	guard  *connGuard
	key    string
	src    string // sourcekey.Of the remote address: what the per-source cap counts
	opened time.Time
	active atomic.Bool
	idle   atomic.Bool // the idle deadline is set
	dl     sync.Mutex  // orders deadline changes
	once   sync.Once
}

// restoreIdle sets the idle deadline: IdleTimeout after the connection
// opened, unless it is active.
func (c *guardConn) restoreIdle() { c.idleUntil(c.opened.Add(c.guard.cfg.IdleTimeout)) }

// extend pushes the idle deadline on, while the connection is not active.
func (c *guardConn) extend() { c.idleUntil(time.Now().Add(c.guard.cfg.IdleTimeout)) }

func (c *guardConn) idleUntil(t time.Time) {
	c.dl.Lock()
	defer c.dl.Unlock()
	if c.active.Load() {
		return
	}
	c.idle.Store(true)
	_ = c.Conn.SetReadDeadline(t)
}

// markActive lifts the idle deadline: the peer has sent a request (TCP,
// TLS) or registered (WS, WSS).
func (c *guardConn) markActive() {
	c.dl.Lock()
	defer c.dl.Unlock()
	if c.active.CompareAndSwap(false, true) {
		c.idle.Store(false)
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
}

func (c *guardConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.idle.Load() && !c.active.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		c.guard.log.Debug("closing idle connection", "remote", c.RemoteAddr().String(), "key", c.key)
		_ = c.Close()
		return n, io.EOF
	}
	return n, err
}

// SetReadDeadline lets a user of the connection set its own deadline;
// the idle deadline no longer applies then.
func (c *guardConn) SetReadDeadline(t time.Time) error {
	c.idle.Store(false)
	return c.Conn.SetReadDeadline(t)
}

func (c *guardConn) SetDeadline(t time.Time) error {
	c.idle.Store(false)
	return c.Conn.SetDeadline(t)
}

func (c *guardConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.guard.release(c) })
	return err
}

// guardedListener accepts under a connGuard. Its Accept never fails for
// good while the listener is open: a failed accept (out of descriptors, a
// connection aborted before we took it) is logged, rate-limited, and
// retried after a growing pause.
type guardedListener struct {
	net.Listener
	transport string
	guard     *connGuard
	exempt    func() func(string) bool
	done      chan struct{}
	closeOnce sync.Once
}

func newGuardedListener(l net.Listener, transport string, g *connGuard, exempt func() func(string) bool) *guardedListener {
	return &guardedListener{Listener: l, transport: transport, guard: g, exempt: exempt, done: make(chan struct{})}
}

func (l *guardedListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			pause = 0
			if gc := l.guard.admit(l.transport, c, l.exempt()); gc != nil {
				return gc, nil
			}
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		pause = min(max(2*pause, minAcceptBackoff), maxAcceptBackoff)
		l.guard.notes.Warn(l.guard.log, "accept "+l.transport, "", "accepting a connection failed; retrying",
			"transport", l.transport, "error", err, "retry_in", pause, "open", l.guard.open())
		select {
		case <-time.After(pause):
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
}

func (l *guardedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}
