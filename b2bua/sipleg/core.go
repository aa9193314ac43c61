package sipleg

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media"
)

// core is what inbound and outbound legs share: the media endpoint, and
// the event queue that is closed when the leg ends.
type core struct {
	m   *Manager
	id  string
	ep  media.Endpoint
	log *slog.Logger
	// transport and remote address of the peer, to end the leg when a
	// connection-oriented transport (WebSocket, TCP, TLS) drops.
	transport, remote string

	mu     sync.Mutex // guards ended and the fields of the legs that embed core
	ended  bool
	held   bool           // the peer's last offer put the call on hold
	events chan leg.Event // made when first needed: a leg with a handler has none
	done   chan struct{}
	once   sync.Once
	// deliver orders the events given to handler and onEnd after them
	// (SetEventHandler); taken before mu, never held while the media stops.
	deliver sync.Mutex
	handler func(leg.Event) // guarded by mu; nil: events go to the queue
	onEnd   func()          // guarded by mu; called once the leg has ended
	// stopWatch stops what watchMedia started (a context.AfterFunc).
	stopWatch func() bool
}

// eventHandlerSetter is an endpoint that can report its events through a
// callback on its reader goroutine (rtpep, webrtcep): the leg then needs
// no goroutine of its own to turn media events into leg events.
type eventHandlerSetter interface {
	SetEventHandler(h func(media.Event))
}

func newCore(m *Manager, id string, ep media.Endpoint, transport, remote string, log *slog.Logger) core {
	return core{m: m, id: id, ep: ep, transport: strings.ToLower(transport), remote: remote, log: log,
		done: make(chan struct{})}
}

func (l *core) onConnection(transport, remote string) bool {
	return l.transport == transport && l.remote == remote
}

// connectionLost ends the leg: its peer cannot be reached any more.
func (l *core) connectionLost() {
	l.log.Info("leg ended: its connection closed", "transport", l.transport, "remote", l.remote)
	l.peerHangup(leg.ConnectionLost)
}

// SetRate sets the endpoint's PCM rate for Opus (it runs at 8 kHz when
// bridged to a G.711 leg).
func (l *core) SetRate(rate int) error { return l.ep.SetRate(rate) }

func (l *core) ID() string { return l.id }

// eventQueue is the capacity of a leg's event queue.
const eventQueue = 16

// Events returns the leg's event queue, closed when the leg has ended.
func (l *core) Events() <-chan leg.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queue()
}

// queue returns the event queue, made on first use (under mu).
func (l *core) queue() chan leg.Event {
	if l.events == nil {
		l.events = make(chan leg.Event, eventQueue)
		if l.ended {
			close(l.events)
		}
	}
	return l.events
}

func (l *core) AudioSink() media.Sink                    { return l.ep.AudioSink() }
func (l *core) SetAudioOutput(s media.Sink)              { l.ep.SetAudioOutput(s) }
func (l *core) Codec() string                            { return l.ep.Codec() }
func (l *core) SendDTMF(d rune, dur time.Duration) error { return l.ep.SendDTMF(d, dur) }

// String describes the leg's receive pipeline, e.g. "SRTP -> Opus(decode,8k)".
func (l *core) String() string {
	if st, ok := l.ep.(fmt.Stringer); ok {
		return st.String()
	}
	return "leg " + l.id
}

func (l *core) isEnded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

// watchMedia turns media events into leg events until the leg ends and,
// if stop is not nil, calls onStop once stop's context is done (before the
// leg ends). With an endpoint that takes an event handler it starts no
// goroutine; otherwise it runs watch on the Manager's WaitGroup.
func (l *core) watchMedia(stop context.Context, onStop func()) {
	hs, ok := l.ep.(eventHandlerSetter)
	if !ok {
		var done <-chan struct{}
		if stop != nil {
			done = stop.Done()
		}
		l.m.wg.Add(1)
		go l.watch(done, onStop)
		return
	}
	hs.SetEventHandler(l.onMedia)
	if stop == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.stopWatch = context.AfterFunc(stop, func() {
		if !l.isEnded() {
			onStop()
		}
	})
}

// onMedia turns one media event into a leg event.
func (l *core) onMedia(ev media.Event) {
	switch ev.Kind {
	case media.EventDTMF:
		l.emit(leg.Event{Kind: leg.EventDTMF, Digit: ev.Digit, Duration: ev.Duration})
	case media.EventTimeout:
		l.emit(leg.Event{Kind: leg.EventMediaTimeout})
	}
}

// watch turns media events into leg events until the leg ends, or until
// stop is closed (then it calls onStop). It runs on the Manager's WaitGroup.
func (l *core) watch(stop <-chan struct{}, onStop func()) {
	defer l.m.wg.Done()
	evs := l.ep.Events()
	for {
		select {
		case <-l.done:
			return
		case <-stop:
			onStop()
			return
		case ev, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			l.onMedia(ev)
		}
	}
}

// SetEventHandler makes the leg deliver its events by calling h instead
// of queueing them on Events, and call end once after the last (the leg
// has ended, where Events would be closed). h runs on the goroutine that
// produced the event (a SIP handler, the media reader), one event at a
// time and in order; it must not block nor end the leg itself. Events
// queued before are given to h first. The caller's goroutine reading
// Events (one per call) is then not needed.
func (l *core) SetEventHandler(h func(leg.Event), end func()) {
	l.deliver.Lock()
	defer l.deliver.Unlock()
	l.mu.Lock()
	l.handler, l.onEnd = h, end
	q, ended := l.events, l.ended
	l.mu.Unlock()
	if q == nil { // nothing queued
		if ended { // finish did not see end
			end()
		}
		return
	}
	for {
		select {
		case ev, ok := <-q:
			if !ok { // the leg ended before: finish did not see end
				end()
				return
			}
			h(ev)
		default:
			return
		}
	}
}

// emit queues an event (or gives it to the handler) unless the leg has
// ended.
func (l *core) emit(ev leg.Event) { l.emitEvent(ev, true) }

// emitEvent delivers ev unless the leg has ended; false when it was not
// (ended, or the queue full). warn logs a full queue.
func (l *core) emitEvent(ev leg.Event, warn bool) bool {
	l.deliver.Lock()
	defer l.deliver.Unlock()
	l.mu.Lock()
	ended, h := l.ended, l.handler
	if !ended && h == nil {
		defer l.mu.Unlock()
		select {
		case l.queue() <- ev:
			return true
		default:
			if warn {
				l.log.Warn("leg event queue full, event dropped", "kind", ev.Kind)
			}
			return false
		}
	}
	l.mu.Unlock()
	if ended {
		return false
	}
	h(ev)
	return true
}

// peerHangup reports the peer's hangup and ends the leg.
func (l *core) peerHangup(c leg.Cause) {
	l.emit(leg.Event{Kind: leg.EventHangup, Cause: c})
	l.finish()
}

// finish marks the leg ended, closes its events and stops its media, once.
func (l *core) finish() {
	l.once.Do(func() {
		l.deliver.Lock()
		l.mu.Lock()
		l.ended = true
		if l.events != nil {
			close(l.events)
		}
		stop, end := l.stopWatch, l.onEnd
		l.mu.Unlock()
		if end != nil {
			end()
		}
		// Released before the media stops: its reader may wait here to
		// deliver an event, and Close waits for the reader.
		l.deliver.Unlock()
		if stop != nil {
			stop()
		}
		close(l.done)
		_ = l.ep.Close()
	})
}
