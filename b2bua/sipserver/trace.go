package sipserver

import (
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/siptrace"
)

// sipgo's one hook on the raw messages of every transport (UDP, TCP, TLS,
// WS, WSS, both directions) is its package-level debug tracer. It is
// installed once, before any transport can run (so the flag it reads is
// never written concurrently), and forwards to the servers of this
// process that have a tracer; with none, a message costs a lock-free check.
func init() {
	sip.SIPDebugTracer(hub)
	sip.SIPDebug = true
}

var hub = &traceHub{}

// traceHub is the sipgo tracer: it hands each message to every server
// with a tracer (one in the softswitch process).
type traceHub struct {
	mu      sync.RWMutex
	servers []*Server
}

func (h *traceHub) add(s *Server) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range h.servers {
		if o == s {
			return
		}
	}
	h.servers = append(h.servers, s)
}

func (h *traceHub) remove(s *Server) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, o := range h.servers {
		if o == s {
			h.servers = append(h.servers[:i:i], h.servers[i+1:]...)
			return
		}
	}
}

func (h *traceHub) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	h.each(func(s *Server) { s.trace(true, transport, laddr, raddr, msg) })
}

func (h *traceHub) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	h.each(func(s *Server) { s.trace(false, transport, laddr, raddr, msg) })
}

func (h *traceHub) each(f func(*Server)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, s := range h.servers {
		f(s)
	}
}

// SetTracer makes every SIP message of this server's transports go to t.
func (s *Server) SetTracer(t *siptrace.Tracer) {
	s.tracer.Store(t)
	hub.add(s)
}

// trace builds the Message for the tracer, when it has a consumer.
func (s *Server) trace(in bool, transport, laddr, raddr string, data []byte) {
	t := s.tracer.Load()
	if t == nil || !t.Active() || len(data) == 0 {
		return
	}
	m := siptrace.Message{Time: time.Now(), In: in, Transport: s.transportName(transport, laddr),
		Local: laddr, Remote: raddr, Data: data}
	m.Guess = m.Transport == "tcp" || m.Transport == "ws"
	if in && m.Transport != "udp" && m.Transport != "ws" && m.Transport != "wss" {
		t.TraceStream(m) // TCP and TLS reads are chunks of a byte stream
		return
	}
	t.Trace(m)
}

// transportName refines sipgo's name ("TCP" is TLS too, "WS" is WSS too)
// by the local port: one of our TLS or HTTPS listeners'.
func (s *Server) transportName(sipgoName, laddr string) string {
	name := sip.NetworkToLower(sipgoName)
	if name != "tcp" && name != "ws" {
		return name
	}
	_, port, err := net.SplitHostPort(laddr)
	if err != nil {
		return name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.portNames[name+"/"+port]; ok {
		return n
	}
	return name
}

// notePort remembers that a TCP-family local port serves transport.
func (s *Server) notePort(family string, addr net.Addr, transport string) {
	if addr == nil {
		return
	}
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.portNames[family+"/"+port] = transport
}

// traceSent traces a response the read filter sent statelessly (it does
// not go through sipgo's transports).
func (s *Server) traceSent(transport, laddr, raddr string, data []byte) {
	if strings.EqualFold(transport, "udp") {
		s.trace(false, "udp", laddr, raddr, data)
	}
}

// traceClosed forgets a closed stream connection's partial message.
func (s *Server) traceClosed(remote string) {
	if t := s.tracer.Load(); t != nil {
		t.Closed(remote)
	}
}
