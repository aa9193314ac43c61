package sipserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/siptrace"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// Config configures a Server. Zero values mean the defaults.
type Config struct {
	UserAgent      string // Server/User-Agent header value; default "softswitch"
	MaxMessageSize int    // bytes; larger messages get 513; default 16384
	// RateLimit limits out-of-dialog INVITE and REGISTER per source.
	RateLimit RateLimits
	// Conns bounds the TCP, TLS and WebSocket connections.
	Conns ConnLimits
}

// Server owns the sipgo user agent, its transports and listeners.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	filter  *filter
	limiter *limiter
	guard   *connGuard
	notes   *ratelog.Limiter // bad input and refused connections, per source
	tracer  atomic.Pointer[siptrace.Tracer]
	// stateless answers, without a transaction, a UDP or WebSocket request
	// it can (SetStateless); nil for the others.
	statelessFn atomic.Pointer[func(*sip.Request) *sip.Response]

	draining atomic.Bool
	inflight sync.WaitGroup

	mu          sync.Mutex
	closed      bool
	udp         map[string]net.PacketConn // by local address, for stateless replies
	listeners   []interface{ Close() error }
	wsListeners map[string]*chanListener
	closeHooks  []func(transport, remote string)
	codeHooks   []func(transport, remote string, wsCode int)
	portNames   map[string]string // "tcp/5061" -> "tls", "ws/8443" -> "wss"
	wg          sync.WaitGroup
}

// New creates the user agent and server; no socket is opened yet.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.UserAgent == "" {
		cfg.UserAgent = "softswitch"
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = 16384
	}
	s := &Server{
		cfg:         cfg,
		log:         log,
		udp:         make(map[string]net.PacketConn),
		wsListeners: make(map[string]*chanListener),
		portNames:   make(map[string]string),
	}
	s.notes = ratelog.New(noteEvery)
	s.filter = newFilter(cfg.MaxMessageSize, s, log)
	s.limiter = newLimiter(cfg.RateLimit, log)
	s.guard = newConnGuard(cfg.Conns, log, s.notes)
	// The stream parser refuses a TCP/TLS message over the size the read
	// filter refuses on UDP and WebSocket (and closes its connection).
	parser := sip.NewParser()
	parser.MaxMessageLength = cfg.MaxMessageSize
	quiet := QuietLogger(log)
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentParser(parser),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(quiet),
			sip.WithTransportLayerReadFilter(s.filter.read),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(quiet),
			sip.WithTransactionLayerTerminateOnConnClose(),
			sip.WithTransactionLayerUnhandledResponseHandler(s.unhandledResponse),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("sip server: %w", err)
	}
	s.ua, s.srv = ua, srv
	srv.OnNoRoute(s.noRoute)
	s.Handle(sip.OPTIONS, s.options)
	return s, nil
}

// UA is the user agent, for clients (outgoing requests) sharing our transports.
func (s *Server) UA() *sipgo.UserAgent { return s.ua }

// TransportLayer gives access to sipgo's connection pools.
func (s *Server) TransportLayer() *sip.TransportLayer { return s.ua.TransportLayer() }

// OnConnClose registers f to be called when a TCP, TLS, WS or WSS
// connection closes, with the transport ("tcp", "tls", "ws", "wss") and the
// remote address as sipgo keys it (the request's Source()).
func (s *Server) OnConnClose(f func(transport, remote string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeHooks = append(s.closeHooks, f)
}

// OnConnCloseCode is OnConnClose with, for WS and WSS, how the WebSocket
// ended (RFC 6455 §7.4): the code of the client's close frame (1005 when
// it had none), 1006 when the client went away without one, 0 when we
// closed it first; 0 for TCP and TLS.
func (s *Server) OnConnCloseCode(f func(transport, remote string, wsCode int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codeHooks = append(s.codeHooks, f)
}

func (s *Server) connClosed(transport, remote string, wsCode int) {
	s.mu.Lock()
	hooks := append([]func(string, string){}, s.closeHooks...)
	codeHooks := append([]func(string, string, int){}, s.codeHooks...)
	s.mu.Unlock()
	if wsCode != 0 {
		s.log.Debug("connection closed", "transport", transport, "remote", remote, "ws_code", wsCode)
	} else {
		s.log.Debug("connection closed", "transport", transport, "remote", remote)
	}
	s.traceClosed(remote)
	for _, h := range hooks {
		h(transport, remote)
	}
	for _, h := range codeHooks {
		h(transport, remote, wsCode)
	}
}

// Handle registers a request handler. Every handler runs with request
// validation (mandatory headers, RFC 3261 §8.2) and drain protection.
func (s *Server) Handle(method sip.RequestMethod, h sipgo.RequestHandler) {
	s.srv.OnRequest(method, func(req *sip.Request, tx sip.ServerTransaction) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		// The read filter checked UDP and WebSocket requests already;
		// stream transports are checked here (validated once: issue 20).
		stream := strings.EqualFold(req.Transport(), "tcp") || strings.EqualFold(req.Transport(), "tls")
		if code, reason := streamCheck(req, stream); reason != "" {
			s.filter.noteBad(req.Source(), reason)
			s.reply(req, tx, code, statusText(code), "Warning", `399 softswitch "`+reason+`"`)
			return
		}
		s.seen(req)
		if tags := unsupported(req); tags != "" {
			s.reply(req, tx, 420, "Bad Extension", "Unsupported", tags)
			return
		}
		if s.draining.Load() && !inDialog(req) && method != sip.ACK && method != sip.CANCEL {
			s.reply(req, tx, 503, "Service Unavailable", "Retry-After", "30")
			return
		}
		// UDP and WebSocket requests were limited statelessly by the read
		// filter; stream transports are limited here (no retransmissions).
		if stream && s.limiter.applies(req) {
			if ok, wait := s.limiter.allow(sourcekey.Host(req.Source()), method, 0); !ok {
				s.reply(req, tx, 503, "Service Unavailable", "Retry-After", strconv.Itoa(wait))
				return
			}
		}
		h(req, tx)
	})
}

// SetStateless makes the read filter ask f about every UDP and WebSocket
// request that passed its checks and the rate limit, out of dialog and
// while not draining: a response f returns is sent at once without a
// transaction, and sipgo never sees the request (e.g. the 401 to a
// REGISTER without credentials: registrar.Authenticator.Stateless). f
// must answer as the request's handler would.
func (s *Server) SetStateless(f func(*sip.Request) *sip.Response) { s.statelessFn.Store(&f) }

// statelessAnswer is the stateless answer to req, or nil.
func (s *Server) statelessAnswer(req *sip.Request) *sip.Response {
	f := s.statelessFn.Load()
	if f == nil || s.draining.Load() || inDialog(req) || unsupported(req) != "" {
		return nil
	}
	res := (*f)(req)
	if res != nil {
		s.seen(req)
	}
	return res
}

// streamCheck is check for a request of a stream transport, and nothing
// for the others (the read filter checked them).
func streamCheck(req *sip.Request, stream bool) (int, string) {
	if !stream {
		return 0, ""
	}
	return check(req)
}

// ExemptFromRateLimit sets which source hosts (IP addresses) the
// per-source rate limit does not apply to, e.g. configured carriers.
func (s *Server) ExemptFromRateLimit(f func(host string) bool) { s.limiter.exempt.Store(&f) }

// RateLimited returns how many out-of-dialog requests the per-source
// limit refused since start, by method ("INVITE", "REGISTER").
func (s *Server) RateLimited() map[string]uint64 {
	return map[string]uint64{"INVITE": s.limiter.refusedInvite.Load(), "REGISTER": s.limiter.refusedRegister.Load()}
}

// Allow lists the methods we handle, for Allow headers.
func (s *Server) Allow() string {
	m := s.srv.RegisteredMethods()
	sort.Strings(m)
	return strings.Join(m, ", ")
}

func (s *Server) noRoute(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	if code, reason := check(req); reason != "" {
		s.filter.noteBad(req.Source(), reason)
		s.reply(req, tx, code, statusText(code), "Warning", `399 softswitch "`+reason+`"`)
		return
	}
	s.reply(req, tx, 405, "Method Not Allowed", "Allow", s.Allow())
}

// options answers an OPTIONS on a stream transport or in a dialog; the
// read filter answers the others statelessly.
func (s *Server) options(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, s.optionsResponse(req))
}

// optionsResponse is our answer to OPTIONS: 200 with what we support, or
// 503 out of dialog while draining (a load balancer's probe then takes us out).
func (s *Server) optionsResponse(req *sip.Request) *sip.Response {
	if s.draining.Load() && !inDialog(req) {
		res := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "30"))
		return res
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", s.Allow()))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", "path, outbound, gruu"))
	res.AppendHeader(sip.NewHeader("Accept-Language", "en"))
	return res
}

// reply sends a response with optional extra header name/value pairs.
func (s *Server) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for i := 0; i+1 < len(hdrs); i += 2 {
		res.AppendHeader(sip.NewHeader(hdrs[i], hdrs[i+1]))
	}
	s.respond(tx, res)
}

func (s *Server) respond(tx sip.ServerTransaction, res *sip.Response) {
	res.SipVersion = "SIP/2.0" // never the echo of a request's odd version
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	s.registered(tx, res)
	if err := tx.Respond(res); err != nil {
		s.log.Warn("sending response failed", "status", res.StatusCode, "error", err)
	}
}

// Reply is reply for handlers of other packages.
func (s *Server) Reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...string) {
	s.reply(req, tx, code, reason, hdrs...)
}

// Respond sends res (adding the Server header) on tx.
func (s *Server) Respond(tx sip.ServerTransaction, res *sip.Response) { s.respond(tx, res) }

// ListenUDPAndTCP binds addr for both UDP and TCP. With port 0 the OS picks
// the TCP port and UDP binds the same number. It returns the bound address.
func (s *Server) ListenUDPAndTCP(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("sip address %q: %w", addr, err)
	}
	for attempt := 0; attempt < 20; attempt++ {
		tl, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return "", err // already "listen tcp ADDR: ..."
		}
		bound := tl.Addr().String()
		_, bport, _ := net.SplitHostPort(bound)
		uc, err := net.ListenPacket("udp", net.JoinHostPort(host, bport))
		if err != nil {
			_ = tl.Close()
			if port == "0" {
				continue // the UDP twin of the port the OS gave us is taken: try another
			}
			return "", err
		}
		s.serveUDP(uc)
		s.serveStream("tcp", tl, nil)
		return bound, nil
	}
	return "", fmt.Errorf("listen %s: no port free for both udp and tcp", addr)
}

// ListenTLS binds addr for SIP over TLS and returns the bound address.
func (s *Server) ListenTLS(addr string, conf *tls.Config) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	s.notePort("tcp", l.Addr(), "tls")
	s.serveStream("tls", l, conf)
	return l.Addr().String(), nil
}

func (s *Server) serveUDP(c net.PacketConn) {
	s.mu.Lock()
	s.udp[c.LocalAddr().String()] = c
	s.listeners = append(s.listeners, c)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.ServeUDP(c)
	}()
	// sipgo adds the socket to its pool inside ServeUDP: until then a
	// request we send (a trunk's first OPTIONS) finds no connection and
	// tries to bind the same address itself ("address already in use").
	pool, addr := s.TransportLayer().Pool("udp"), c.LocalAddr().String()
	for deadline := time.Now().Add(2 * time.Second); pool != nil && pool.Get(addr) == nil && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// serveStream serves TCP (conf nil) or TLS on the raw listener l, guarded:
// its accept loop survives running out of descriptors, and connections
// are bounded in number, per source and in idle time (conn.go, guard.go).
func (s *Server) serveStream(transport string, raw net.Listener, conf *tls.Config) {
	var l net.Listener = newGuardedListener(raw, transport, s.guard, s.exemptFunc)
	if conf != nil {
		l = newTLSListener(l, conf, s.guard.cfg.HandshakeTimeout, s.log, s.notes)
	}
	tl := &trackedListener{Listener: l, transport: transport, onClose: s.connClosed}
	s.mu.Lock()
	s.listeners = append(s.listeners, tl)
	s.mu.Unlock()
	serve := s.srv.ServeTCP
	if transport == "tls" {
		serve = s.srv.ServeTLS
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(tl); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip listener stopped", "transport", transport, "error", err)
		}
	}()
}

// UDPAddr is the address of our UDP listener, for requests we originate:
// sent from it (not from a new ephemeral socket), a carrier sees the same
// address:port that our Contact and registrations name, and its requests
// and responses come back through NATs and firewalls.
func (s *Server) UDPAddr() (sip.Addr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if pc, ok := l.(net.PacketConn); ok {
			if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
				return sip.Addr{IP: ua.IP, Port: ua.Port}, true
			}
		}
	}
	return sip.Addr{}, false
}

// udpConn returns our UDP socket bound to local, for stateless replies.
func (s *Server) udpConn(local string) net.PacketConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udp[local]
}

// StartDrain makes new requests (outside a dialog) get 503 from now on.
func (s *Server) StartDrain() { s.draining.Store(true) }

// Shutdown stops taking new requests (they get 503), waits for the
// requests being handled, then closes everything. ctx bounds the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("sip shutdown: %w", ctx.Err())
	}
	return errors.Join(err, s.Close())
}

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

// Close closes listeners and connections now.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	hub.remove(s)
	ls := s.listeners
	for _, l := range s.wsListeners {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	var err error
	for _, l := range ls {
		if cerr := l.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = errors.Join(err, cerr)
		}
	}
	if cerr := s.ua.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	s.wg.Wait()
	return err
}

// inDialog reports whether req belongs to an existing dialog (its To has a tag).
func inDialog(req *sip.Request) bool {
	if to := req.To(); to != nil {
		if tag, _ := to.Params.Get("tag"); tag != "" {
			return true
		}
	}
	return false
}
