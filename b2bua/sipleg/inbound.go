package sipleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media"
)

// onInvite handles a new INVITE (or routes a re-INVITE to its dialog). It
// returns when the call is over: sipgo keeps the transaction while the
// handler runs.
func (m *Manager) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		if d := m.dialog(req.CallID().Value()); d != nil {
			d.onReinvite(req, tx)
			return
		}
		m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	if m.handler == nil {
		m.srv.Reply(req, tx, 503, "Service Unavailable")
		return
	}
	ctx := context.Background()
	dest := req.Recipient.User
	from := req.From()
	info := leg.CallInfo{
		ID: req.CallID().Value(), Destination: dest, Source: req.Source(),
		Transport:  strings.ToLower(req.Transport()),
		Caller:     from.Address.User,
		CallerName: from.DisplayName,
		Header: func(name string) string {
			if h := req.GetHeader(name); h != nil {
				return h.Value()
			}
			return ""
		},
	}
	log := m.log.With("call_id", info.ID, "leg", "a")
	if !m.anonymousAllowed(dest) {
		u, ok := m.auth.Authenticate(ctx, req, tx, true)
		if !ok {
			return
		}
		// The authenticated extension is the caller, whatever From says.
		info.Caller = u.Ext
		if info.CallerName == "" {
			info.CallerName = u.Name
		}
	}
	if len(req.Body()) == 0 {
		// Late offer (INVITE without SDP) is not supported yet.
		m.srv.Reply(req, tx, 488, "Not Acceptable Here", "Warning", `399 softswitch "INVITE without SDP offer"`)
		return
	}
	ep, err := m.newEP(ctx)
	if err != nil {
		log.Error("no media endpoint for the call", "error", err)
		m.srv.Reply(req, tx, 503, "Service Unavailable", "Retry-After", "5")
		return
	}
	answer, err := ep.Answer(ctx, req.Body())
	if err != nil {
		_ = ep.Close()
		log.Info("SDP offer refused", "error", err)
		m.srv.Reply(req, tx, 488, "Not Acceptable Here", "Warning", `399 softswitch "`+sanitizeWarning(err.Error())+`"`)
		return
	}
	dua := &sipgo.DialogUA{Client: m.client, ContactHDR: m.contact(req.Transport()), RewriteContact: true}
	dlg, err := dua.ReadInvite(req, tx)
	if err != nil {
		_ = ep.Close()
		log.Info("INVITE refused", "error", err)
		m.srv.Reply(req, tx, 400, "Bad Request", "Warning", `399 softswitch "`+sanitizeWarning(err.Error())+`"`)
		return
	}
	_ = dlg.Respond(100, "Trying", nil)
	l := &inLeg{m: m, id: info.ID, dlg: dlg, ep: ep, answer: answer, log: log,
		events: make(chan leg.Event, 16), done: make(chan struct{})}
	m.addDialog(info.ID, l)
	m.wg.Add(1)
	go l.watch()
	m.handler(ctx, l, info)
	l.release()
	m.delDialog(info.ID, l)
}

// inLeg is the caller's side of a call (we are UAS).
type inLeg struct {
	m      *Manager
	id     string
	dlg    *sipgo.DialogServerSession
	ep     media.Endpoint
	answer []byte // our current SDP
	log    *slog.Logger

	mu       sync.Mutex
	answered bool
	ended    bool
	events   chan leg.Event
	done     chan struct{}
	once     sync.Once
}

func (l *inLeg) ID() string                               { return l.id }
func (l *inLeg) Events() <-chan leg.Event                 { return l.events }
func (l *inLeg) AudioSink() media.Sink                    { return l.ep.AudioSink() }
func (l *inLeg) SetAudioOutput(s media.Sink)              { l.ep.SetAudioOutput(s) }
func (l *inLeg) Codec() string                            { return l.ep.Codec() }
func (l *inLeg) SendDTMF(d rune, dur time.Duration) error { return l.ep.SendDTMF(d, dur) }

// watch turns the dialog ending before the answer (CANCEL) and media
// events into leg events.
func (l *inLeg) watch() {
	defer l.m.wg.Done()
	evs := l.ep.Events()
	for {
		select {
		case <-l.done:
			return
		case <-l.dlg.Context().Done():
			l.mu.Lock()
			answered := l.answered
			l.mu.Unlock()
			if !answered {
				l.peerHangup(leg.Cancelled)
			}
			return
		case ev, ok := <-evs:
			if !ok {
				evs = nil
				continue
			}
			l.emitMedia(ev)
		}
	}
}

func (l *inLeg) emitMedia(ev media.Event) {
	switch ev.Kind {
	case media.EventDTMF:
		l.emit(leg.Event{Kind: leg.EventDTMF, Digit: ev.Digit, Duration: ev.Duration})
	case media.EventTimeout:
		l.emit(leg.Event{Kind: leg.EventMediaTimeout})
	}
}

// emit queues an event unless the leg has ended.
func (l *inLeg) emit(ev leg.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	select {
	case l.events <- ev:
	default:
		l.log.Warn("leg event queue full, event dropped", "kind", ev.Kind)
	}
}

// peerHangup reports the caller's hangup and ends the leg.
func (l *inLeg) peerHangup(c leg.Cause) {
	l.emit(leg.Event{Kind: leg.EventHangup, Cause: c})
	l.finish()
}

// finish marks the leg ended, closes its events and media once.
func (l *inLeg) finish() {
	l.once.Do(func() {
		l.mu.Lock()
		l.ended = true
		close(l.events)
		l.mu.Unlock()
		close(l.done)
		_ = l.ep.Close()
	})
}

// release is called when the call is over.
func (l *inLeg) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.Hangup(ctx, leg.Normal)
	l.finish()
}

func (l *inLeg) localSDP() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answer
}

func (l *inLeg) Ring(ctx context.Context, early bool) error {
	if early {
		return l.dlg.Respond(183, "Session Progress", l.localSDP(), sip.NewHeader("Content-Type", "application/sdp"))
	}
	return l.dlg.Respond(180, "Ringing", nil)
}

func (l *inLeg) Answer(ctx context.Context) error {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return errors.New("answer: the caller has gone")
	}
	l.answered = true
	l.mu.Unlock()
	// RespondSDP returns once the ACK arrives (or after 64*T1 without one).
	if err := l.dlg.RespondSDP(l.localSDP()); err != nil {
		l.mu.Lock()
		l.answered = false
		l.mu.Unlock()
		return fmt.Errorf("answer: %w", err)
	}
	return nil
}

func (l *inLeg) Hangup(ctx context.Context, c leg.Cause) error {
	l.mu.Lock()
	ended, answered := l.ended, l.answered
	l.mu.Unlock()
	if ended {
		return nil
	}
	defer l.finish()
	if !answered {
		code, reason := c.SIP, c.Reason
		if code < 300 {
			code, reason = 480, "Temporarily Unavailable"
		}
		return l.dlg.Respond(code, reason, nil, sip.NewHeader("Reason", c.ReasonHeader()))
	}
	if err := l.dlg.Bye(ctx); err != nil {
		return fmt.Errorf("bye: %w", err)
	}
	return nil
}

func (l *inLeg) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if err := l.dlg.ReadAck(req, tx); err != nil {
		l.log.Debug("ACK ignored", "error", err)
	}
}

func (l *inLeg) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := l.dlg.ReadBye(req, tx); err != nil {
		l.log.Debug("BYE refused", "error", err)
		l.m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.peerHangup(leg.Normal)
}

func (l *inLeg) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	sdp := answerReinvite(l.m, l.ep, l.localSDP(), req, tx, l.log)
	l.mu.Lock()
	l.answer = sdp
	l.mu.Unlock()
}

func (l *inLeg) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	handleInfo(l.m, req, tx, l.emit)
}

func sanitizeWarning(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
