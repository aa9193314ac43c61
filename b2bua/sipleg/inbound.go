package sipleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/sipheader"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
	"github.com/softswitch/softswitch/b2bua/store"
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
		Transport:  sip.NetworkToLower(req.Transport()),
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
	spec := MediaSpec{CallID: info.ID, Leg: "a", Signal: signalAddr(req.Source())}
	if t, ok := m.fromTrunk(req); ok {
		// A carrier's call, recognised by its address: the DID is the
		// destination and the caller is whatever number it presents.
		info.Trunk = t.Name
		info.Destination = didOf(req, t)
		spec.Codecs = t.Codecs
	} else if !m.anonymousAllowed(dest) {
		if !m.mayAuthenticate(ctx, req) {
			// Challenged all the same: a 403 here told which From users
			// are extensions (issue 12). Logged for the operator only.
			m.refused.Note(req.Source(), "from", from.Address.User, "destination", dest, "call_id", info.ID)
		}
		u, ok := m.auth.Authenticate(ctx, req, tx, true)
		if !ok {
			return
		}
		// The authenticated extension is the caller, whatever From says.
		info.Caller = u.Ext
		info.Authenticated = true
		if info.CallerName == "" {
			info.CallerName = u.Name
		}
	}
	if h := sipheader.Get(req, "Replaces"); h != nil {
		id, code, why := m.pickupOf(h.Value())
		if code != 0 {
			log.Info("INVITE with Replaces refused", "replaces", h.Value(), "reason", why)
			m.srv.Reply(req, tx, code, sipReason(code), "Warning", `399 softswitch "`+why+`"`)
			return
		}
		info.Pickup = id
	}
	// An INVITE without SDP is a late offer (RFC 3261 §13.2.1): we offer
	// in the 200 and the caller answers in its ACK.
	lateOffer := len(req.Body()) == 0
	ep, answer, ok := m.inviteMedia(ctx, req, tx, spec, log)
	if !ok {
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
	l := &inLeg{core: newCore(m, info.ID, ep, req.Transport(), req.Source(), log), dlg: dlg, answer: answer, lateOffer: lateOffer, offer: req.Body()}
	m.addDialog(info.ID, l)
	l.watchCancel()
	m.handler(ctx, l, info)
	l.release()
	m.delDialog(info.ID, l)
}

// inviteMedia creates the caller's media endpoint, of the kind its offer
// asks for, and our SDP: the answer to the offer, or our offer when the
// INVITE has none. When it cannot, it answers req (488, 500 or 503) and
// returns ok=false.
func (m *Manager) inviteMedia(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, spec MediaSpec, log *slog.Logger) (ep media.Endpoint, sdp []byte, ok bool) {
	offer := req.Body()
	if len(offer) == 0 {
		spec.Kind = kindForTransport(req.Transport())
	} else {
		kind, err := kindForOffer(offer)
		if err != nil {
			refuseSDP(m, req, tx, err, log)
			return nil, nil, false
		}
		spec.Kind = kind
	}
	ep, err := m.newEP(ctx, spec)
	if err != nil {
		log.Error("no media endpoint for the call", "error", err)
		m.srv.Reply(req, tx, 503, "Service Unavailable", "Retry-After", "5")
		return nil, nil, false
	}
	if len(offer) == 0 {
		sdp, err = ep.Offer(ctx)
	} else {
		sdp, err = ep.Answer(ctx, offer)
	}
	if err != nil {
		_ = ep.Close()
		refuseSDP(m, req, tx, err, log)
		return nil, nil, false
	}
	if !m.fitsUDP(req, sdp) {
		// sipgo would not send the 183 or 200 at all, and the caller
		// would wait for a final answer that never comes.
		_ = ep.Close()
		log.Info("SDP offer refused: our SDP does not fit in a UDP datagram", "sdp_bytes", len(sdp))
		m.srv.Reply(req, tx, 488, "Not Acceptable Here", "Warning", `399 softswitch "the answer to this offer is too large for UDP"`)
		return nil, nil, false
	}
	return ep, sdp, true
}

// udpHeadroom is slack between the 200 fitsUDP builds and the one the
// dialog sends (RespondSDP: the same response from the same request with
// its To tag, Content-Type and the UA's Contact; sipgo adds no Server
// header). 128 bytes refused a browser's answer that sipgo sends.
const udpHeadroom = 16

// fitsUDP tells whether a 200 to req carrying sdp fits in one datagram as
// sipgo sends it over UDP (at most sip.UDPMTUSize-200 bytes, or it sends
// nothing). Other transports always fit.
func (m *Manager) fitsUDP(req *sip.Request, sdp []byte) bool {
	if !strings.EqualFold(req.Transport(), "udp") {
		return true
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", sdp)
	contact := m.contact(req.Transport())
	res.AppendHeader(&contact)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	var n byteCount // its length, without building the text (issue 20)
	res.StringWrite(&n)
	return int(n)+udpHeadroom <= sip.UDPMTUSize-200
}

// byteCount is an io.StringWriter that only counts what it is given.
type byteCount int

func (c *byteCount) WriteString(s string) (int, error) {
	*c += byteCount(len(s))
	return len(s), nil
}

// StatelessInvite is what onInvite answers, before anything else, an
// out-of-dialog INVITE without credentials that must authenticate (not a
// carrier's, not to an anonymous destination): the 407 (or the guard's
// 403/503), for sipserver's read filter to send without a transaction
// (issue 20: the INVITE sipp, phones and browsers send first costs no
// second parse, no INVITE transaction and no goroutine). nil for any
// other request, which takes the usual path.
func (m *Manager) StatelessInvite(req *sip.Request) *sip.Response {
	if req.Method != sip.INVITE || m.handler == nil || req.To() == nil || req.From() == nil {
		return nil
	}
	if tag, _ := req.To().Params.Get("tag"); tag != "" {
		return nil
	}
	if sipheader.Has(req, "Proxy-Authorization") || sipheader.Has(req, "Authorization") {
		return nil
	}
	if _, ok := m.fromTrunk(req); ok || m.anonymousAllowed(req.Recipient.User) {
		return nil
	}
	if !m.mayAuthenticate(context.Background(), req) {
		m.refused.Note(req.Source(), "from", req.From().Address.User, "destination", req.Recipient.User, "call_id", req.CallID().Value())
	}
	return m.auth.Challenge(req, true)
}

// mayAuthenticate tells whether a challenge could lead anywhere: the
// INVITE carries credentials, its From is one of our extensions, or it
// comes from an address something registered from (a PBX using us as its
// carrier presents its customers' numbers, not its account). A stranger (a
// carrier's call from an unknown address, a scanner) is logged, and
// challenged like anyone else so that it cannot tell extensions apart.
func (m *Manager) mayAuthenticate(ctx context.Context, req *sip.Request) bool {
	if sipheader.Has(req, "Proxy-Authorization") || sipheader.Has(req, "Authorization") {
		return true
	}
	if m.loc.Registered(sourcekey.Host(req.Source())) {
		return true
	}
	from := req.From()
	if from == nil {
		return false
	}
	_, err := m.users.User(ctx, from.Address.User)
	return !errors.Is(err, store.ErrNotFound)
}

// inLeg is the caller's side of a call (we are UAS).
type inLeg struct {
	core
	dlg       *sipgo.DialogServerSession
	answer    []byte // our current SDP; guarded by core.mu
	answered  bool   // guarded by core.mu
	lateOffer bool   // our SDP is an offer, answered in the ACK; guarded by core.mu
	offer     []byte // the INVITE's offer, answered again by AcceptVideo
	earlySent bool   // a 183 carried our answer; guarded by core.mu
}

// watchCancel reports the dialog ending before the answer (the caller's
// CANCEL) as the caller's hangup.
func (l *inLeg) watchCancel() {
	l.watchMedia(l.dlg.Context(), func() {
		l.mu.Lock()
		answered := l.answered
		l.mu.Unlock()
		if !answered {
			l.peerHangup(leg.Cancelled)
		}
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
	l.mu.Lock()
	late := l.lateOffer
	l.mu.Unlock()
	if early && !late { // with a late offer, early media would need a reliable 183 (RFC 3262)
		l.mu.Lock()
		l.earlySent = true
		l.mu.Unlock()
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
		return
	}
	l.mu.Lock()
	late := l.lateOffer && l.answered
	if late {
		l.lateOffer = false
	}
	l.mu.Unlock()
	if !late {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.ep.Accept(ctx, req.Body()); err != nil {
		// The caller asked for our offer and did not answer it: no media.
		cause := negotiationCause(err)
		l.log.Info("late-offer answer in the ACK refused: ending the call", "cause", cause.Name, "error", err)
		l.emit(leg.Event{Kind: leg.EventHangup, Cause: cause})
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = l.Hangup(ctx, cause) // BYE
		}()
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
	sdp, took := answerReinvite(l.m, l.ep, l.localSDP(), req, tx, l.log)
	l.mu.Lock()
	l.answer = sdp
	l.mu.Unlock()
	if took {
		l.noteHold(req.Body())
	}
}

// onRefer takes a transfer request from the caller; NOTIFYs go to the
// caller's Contact within this dialog.
func (l *inLeg) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	target := l.dlg.InviteRequest.Contact()
	if target == nil {
		l.m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.core.onRefer(req, tx, target.Address, l.dlg.Do)
}

func sanitizeWarning(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
