package siptrace

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tracer fans each SIP message out to the consumers that are on: the debug
// log (sip_trace), live subscriptions (softswitch trace), a HEP exporter,
// and an observer (metrics). Its methods are safe for concurrent use.
type Tracer struct {
	log     *slog.Logger
	logOn   atomic.Bool
	nsubs   atomic.Int32
	hep     atomic.Pointer[HEPExporter]
	observe atomic.Pointer[[]func(Message, Summary)]
	framers *framers

	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// New returns a Tracer with every consumer off.
func New(log *slog.Logger) *Tracer {
	return &Tracer{log: log, framers: newFramers(), subs: make(map[*Subscription]struct{})}
}

// SetLogging turns the debug log of every message on or off.
func (t *Tracer) SetLogging(on bool) { t.logOn.Store(on) }

// Logging reports whether messages are logged.
func (t *Tracer) Logging() bool { return t.logOn.Load() }

// SetHEP starts exporting to e (nil stops); it returns the exporter it
// replaces, for the caller to close.
func (t *Tracer) SetHEP(e *HEPExporter) *HEPExporter { return t.hep.Swap(e) }

// Observe adds f, called for every message (e.g. to count them). Add
// observers before the transports run; they cannot be removed.
func (t *Tracer) Observe(f func(Message, Summary)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var fs []func(Message, Summary)
	if cur := t.observe.Load(); cur != nil {
		fs = append(fs, *cur...)
	}
	fs = append(fs, f)
	t.observe.Store(&fs)
}

// Active reports whether any consumer is on; when not, a transport need
// not build a Message.
func (t *Tracer) Active() bool {
	return t.logOn.Load() || t.nsubs.Load() > 0 || t.hep.Load() != nil || t.observe.Load() != nil
}

// Trace hands one whole message to the consumers. m.Data is not kept.
func (t *Tracer) Trace(m Message) {
	if !t.Active() {
		return
	}
	s := Summarize(m.Data)
	if m.Guess {
		switch {
		case m.Transport == "tcp" && s.Via == "tls", m.Transport == "ws" && s.Via == "wss":
			m.Transport = s.Via
		}
	}
	if fs := t.observe.Load(); fs != nil {
		for _, f := range *fs {
			f(m, s)
		}
	}
	if t.logOn.Load() {
		dir := "sent"
		if m.In {
			dir = "received"
		}
		t.log.Debug("sip "+dir, "call_id", s.CallID(), "transport", m.Transport, "local", m.Local,
			"remote", m.Remote, "first_line", s.FirstLine(), "message", string(m.Data))
	}
	if e := t.hep.Load(); e != nil {
		e.export(m, s.CallID())
	}
	if t.nsubs.Load() > 0 {
		t.publish(m, s)
	}
}

// TraceStream hands a chunk read from a stream transport: it is cut into
// whole messages first.
func (t *Tracer) TraceStream(m Message) {
	if !t.Active() {
		return
	}
	t.framers.feed(m.Remote, m.Data, func(msg []byte) {
		one := m
		one.Data = msg
		t.Trace(one)
	})
}

// Closed forgets what was buffered for a stream connection.
func (t *Tracer) Closed(remote string) { t.framers.forget(remote) }

// Filter selects messages for a subscription; empty fields match all.
type Filter struct {
	Ext    string // user part of From, To or the Request-URI
	CallID string
	Method string // request method or the CSeq method of a response
}

func (f Filter) match(s Summary) bool {
	if f.Ext != "" && !s.matchUser(f.Ext) {
		return false
	}
	if f.CallID != "" && f.CallID != string(s.callID) {
		return false
	}
	return f.Method == "" || strings.EqualFold(f.Method, s.Method)
}

// Subscription receives formatted messages that match its filter. When
// its reader falls behind, messages are dropped and counted.
type Subscription struct {
	C       <-chan string
	c       chan string
	filter  Filter
	dropped atomic.Int64
}

// Dropped is how many messages did not fit in the subscription's queue.
func (s *Subscription) Dropped() int64 { return s.dropped.Load() }

const subQueue = 512

// Subscribe starts a live stream of matching messages.
func (t *Tracer) Subscribe(f Filter) *Subscription {
	c := make(chan string, subQueue)
	s := &Subscription{C: c, c: c, filter: f}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.nsubs.Store(int32(len(t.subs)))
	t.mu.Unlock()
	return s
}

// Unsubscribe ends s; its channel is closed.
func (t *Tracer) Unsubscribe(s *Subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.subs[s]; !ok {
		return
	}
	delete(t.subs, s)
	t.nsubs.Store(int32(len(t.subs)))
	close(s.c)
}

func (t *Tracer) publish(m Message, s Summary) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var text string
	for sub := range t.subs {
		if !sub.filter.match(s) {
			continue
		}
		if text == "" {
			text = Format(m, s)
		}
		select {
		case sub.c <- text:
		default:
			sub.dropped.Add(1)
		}
	}
}

// Format renders a message for a person: one line saying when, which way,
// on which transport and between which addresses, then the message.
func Format(m Message, s Summary) string {
	from, to, dir := m.Remote, m.Local, "recv"
	if !m.In {
		from, to, dir = m.Local, m.Remote, "sent"
	}
	body := strings.TrimRight(string(m.Data), "\r\n")
	return fmt.Sprintf("%s %s %s %s -> %s call_id=%s\n%s\n\n", m.Time.UTC().Format(time.RFC3339Nano), dir,
		strings.ToUpper(m.Transport), from, to, s.CallID(), strings.ReplaceAll(body, "\r\n", "\n"))
}
