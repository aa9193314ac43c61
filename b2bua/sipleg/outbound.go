package sipleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/trunk"
	"github.com/softswitch/softswitch/media"
)

// branch is one INVITE of a dial: a registered contact, a SIP URI or a
// trunk. It is the leg.Branch the call forks to.
type branch struct {
	m         *Manager
	ruri      sip.Uri
	dest      string // host:port to send to (the registration's source address)
	transport string // udp, tcp, tls, ws, wss
	toUser    string
	trunk     *trunk.Config // set for trunk/NAME/NUMBER
	// routes is the Path a registration came through (Route headers of
	// the INVITE; dest is its first hop), and uaTransport the transport
	// the UA registered with behind it (its media follow it); nil when
	// the contact is reached directly.
	routes      []string
	uaTransport string
}

// mediaKind is the media profile of the branch's callee.
func (b branch) mediaKind() MediaKind {
	if b.routes != nil {
		return kindForTransport(b.uaTransport)
	}
	return kindForTransport(b.transport)
}

// Resolve turns target into the branches a call rings: "user/EXT" (every
// registered contact), "trunk/NAME/NUMBER", or a SIP URI
// "sip:user@host[:port][;transport=tcp]". An external target (a trunk or
// a URI) is refused unless the caller is trusted.
func (m *Manager) Resolve(ctx context.Context, target string, opts leg.DialOptions) ([]leg.Branch, error) {
	if external(target) && !opts.Trusted {
		// Toll fraud guard: only extensions and carriers may call out.
		m.fraud.Note(opts.Source, "target", target, "call_id", opts.CallID)
		return nil, &leg.Error{Cause: leg.Forbidden, Detail: "caller not authenticated: " + target + " refused"}
	}
	bs, err := m.resolve(ctx, target)
	if err != nil {
		return nil, err
	}
	out := make([]leg.Branch, len(bs))
	for i := range bs {
		bs[i].m = m
		out[i] = bs[i]
	}
	return out, nil
}

// Dial sends this branch's INVITE and waits for its final answer.
func (b branch) Dial(ctx context.Context, opts leg.DialOptions) (leg.Leg, error) {
	l, err := b.m.invite(ctx, b, opts)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// String names the branch in logs: its Request-URI and where it is sent.
func (b branch) String() string {
	return b.ruri.String() + " via " + b.transport + " to " + b.dest
}

// resolve turns a target into branches.
func (m *Manager) resolve(ctx context.Context, target string) ([]branch, error) {
	switch {
	case strings.HasPrefix(target, "user/"):
		ext := strings.TrimPrefix(target, "user/")
		if _, err := m.users.User(ctx, ext); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, &leg.Error{Cause: leg.NotFound, Detail: "no extension " + ext}
			}
			return nil, &leg.Error{Cause: leg.Failure, Detail: err.Error()}
		}
		var out []branch
		for _, b := range m.loc.Lookup(ext) {
			br, ok := m.bindingBranch(b)
			if ok {
				out = append(out, br)
			}
		}
		if len(out) == 0 {
			return nil, &leg.Error{Cause: leg.Unavailable, Detail: ext + " is not registered"}
		}
		return out, nil
	case strings.HasPrefix(target, "trunk/"):
		b, err := m.trunkBranch(target)
		if err != nil {
			return nil, err
		}
		return []branch{b}, nil
	case strings.HasPrefix(target, "sip:"):
		var u sip.Uri
		if err := sip.ParseUri(target, &u); err != nil || u.Host == "" {
			return nil, &leg.Error{Cause: leg.NotFound, Detail: "bad SIP URI " + target}
		}
		dest, tr := uriHop(u)
		return []branch{{ruri: u, dest: dest, transport: tr, toUser: u.User}}, nil
	}
	return nil, &leg.Error{Cause: leg.NotFound, Detail: "unknown target " + target}
}

// bindingBranch sends to the address the registration came from, over the
// connection it came on; a binding whose connection is gone is skipped.
func (m *Manager) bindingBranch(b store.Binding) (branch, bool) {
	var u sip.Uri
	if err := sip.ParseUri(b.Contact, &u); err != nil {
		m.log.Warn("unusable contact", "ext", b.Ext, "contact", b.Contact, "error", err)
		return branch{}, false
	}
	tr := strings.ToLower(b.Transport)
	if b.Path != "" {
		// Through a proxy (RFC 3327): the proxy holds the UA's
		// connection; the INVITE goes to it with the Path as Route.
		routes := splitPath(b.Path)
		dest, hopTr, ok := firstHop(routes)
		if !ok {
			m.log.Warn("unusable Path", "ext", b.Ext, "contact", b.Contact, "path", b.Path)
			return branch{}, false
		}
		return branch{ruri: u, dest: dest, transport: hopTr, toUser: b.Ext, routes: routes, uaTransport: tr}, true
	}
	if tr != "udp" {
		conn, err := m.srv.TransportLayer().GetConnection(tr, b.Source)
		if err != nil {
			m.log.Info("skipping contact: its connection is gone", "ext", b.Ext, "contact", b.Contact, "transport", tr)
			return branch{}, false
		}
		_, _ = conn.TryClose() // GetConnection took a reference
	}
	return branch{ruri: u, dest: b.Source, transport: tr, toUser: b.Ext}, true
}

// invite sends one INVITE and waits for its final answer.
func (m *Manager) invite(ctx context.Context, b branch, opts leg.DialOptions) (*outLeg, error) {
	spec := MediaSpec{Kind: b.mediaKind(), CallID: opts.CallID, Leg: "b", Signal: signalAddr(b.dest)}
	fromHost := m.cfg.Host
	var answerOpts sipgo.AnswerOptions
	if b.trunk != nil {
		spec.Codecs = b.trunk.Codecs
		fromHost = b.trunk.Host
		answerOpts.Username, answerOpts.Password = b.trunk.AuthUsername, b.trunk.Password
	}
	ep, err := m.newEP(ctx, spec)
	if err != nil {
		return nil, &leg.Error{Cause: leg.Congestion, Detail: err.Error()}
	}
	if v, ok := ep.(videoEndpoint); ok && spec.Kind == MediaWebRTC && len(opts.Video) > 0 {
		v.OfferVideo(opts.Video) // a browser calls a browser: video too
	}
	offer, err := ep.Offer(ctx)
	if err != nil {
		_ = ep.Close()
		return nil, &leg.Error{Cause: leg.Failure, Detail: err.Error()}
	}
	callID := sip.GenerateTagN(24)
	if m.onBranch != nil {
		m.onBranch(opts.CallID, callID)
	}
	log := m.log.With("call_id", opts.CallID, "leg", "b", "b_call_id", callID, "to", b.ruri.String())
	contact := m.contact(b.transport)
	req := m.inviteRequest(b, opts, fromHost, callID, contact)
	req.SetBody(offer)

	l := &outLeg{core: newCore(m, callID, ep, b.transport, b.dest, log), offer: offer, call: opts.CallID}
	m.addDialog(callID, l)
	fail := func(err error) (*outLeg, error) {
		m.delDialog(callID, l)
		_ = ep.Close()
		return nil, err
	}
	dua := &sipgo.DialogUA{Client: m.client, ContactHDR: contact, RewriteContact: true}
	dlg, err := dua.WriteInvite(ctx, req)
	if err != nil {
		log.Info("INVITE not sent", "error", err)
		return fail(&leg.Error{Cause: leg.Unavailable, Detail: err.Error()})
	}
	l.setDialog(dlg)
	earlySDP := false
	// A branch given up before any provisional response waits in sipgo
	// until one comes (to CANCEL it) or timer B (32 s); its media are of
	// no use meanwhile and are closed at once (issue 20). An answer that
	// still comes is refused for want of them: ACKed and hung up.
	var provisional atomic.Bool
	stopRelease := context.AfterFunc(ctx, func() {
		if !provisional.Load() {
			_ = ep.Close()
		}
	})
	defer stopRelease()
	// Giving up (ctx ends) sends CANCEL, which RFC 3261 §9.1 allows only
	// once a provisional response has arrived: sipgo waits for one, up to
	// timer B (32 s) for a contact that never answers. The call's Bridge
	// does not wait for that (it finishes such branches in the background
	// and hangs up one that answers late), and a phone that starts ringing
	// late is still CANCELed.
	answerOpts.OnResponse = func(res *sip.Response) error {
		if (res.StatusCode == 401 || res.StatusCode == 407) && b.trunk != nil {
			if err := b.trunk.CheckChallenge(res); err != nil {
				log.Warn("trunk challenge not answered", "error", err)
				return &leg.Error{Cause: leg.Forbidden, Detail: err.Error()}
			}
		}
		if res.IsProvisional() {
			provisional.Store(true)
		}
		if !res.IsProvisional() || res.StatusCode == 100 {
			return nil
		}
		p := leg.Progress{Code: res.StatusCode}
		if len(res.Body()) > 0 && !earlySDP {
			if err := ep.Accept(ctx, res.Body()); err != nil {
				log.Info("early media SDP refused", "error", err)
			} else {
				earlySDP = true
			}
		}
		if earlySDP {
			p.Early = ep
		}
		if opts.OnProgress != nil {
			opts.OnProgress(p)
		}
		return nil
	}
	if err := dlg.WaitAnswer(ctx, answerOpts); err != nil {
		return fail(inviteFailure(ctx, err, log))
	}
	if err := confirmAnswer(dlg, ep, earlySDP, log); err != nil {
		return fail(err)
	}
	l.mu.Lock()
	l.confirmed = true
	l.mu.Unlock()
	l.watchMedia(nil, nil)
	log.Info("answered", "codec", ep.Codec())
	return l, nil
}

// inviteRequest builds the INVITE of branch b (without its body).
func (m *Manager) inviteRequest(b branch, opts leg.DialOptions, fromHost, callID string, contact sip.ContactHeader) *sip.Request {
	req := sip.NewRequest(sip.INVITE, b.ruri)
	req.SetTransport(strings.ToUpper(b.transport))
	req.SetDestination(b.dest)
	for _, r := range b.routes {
		req.AppendHeader(sip.NewHeader("Route", r))
	}
	m.FromListener(req)
	present(req, b, opts.Caller, opts.CallerName, fromHost)
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"))
	return req
}

// present adds From (caller at fromHost, a new tag) and To (branch b's
// user) to req and, toward a trunk, the caller asserted (RFC 3325
// P-Asserted-Identity): the caller presentation of what we send out.
func present(req *sip.Request, b branch, caller, callerName, fromHost string) {
	from := &sip.FromHeader{DisplayName: callerName, Address: sip.Uri{Scheme: "sip", User: caller, Host: fromHost}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: b.toUser, Host: b.ruri.Host}})
	if b.trunk != nil && caller != "" {
		// RFC 3325: the carrier trusts us to assert who calls.
		pai := sip.FromHeader{DisplayName: callerName, Address: sip.Uri{Scheme: "sip", User: caller, Host: fromHost}}
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", pai.Value()))
	}
}

// inviteFailure turns the error of waiting for an INVITE's final answer
// into the branch's error: the callee's final status as a cause, our
// giving up (ctx), or a transaction timeout.
func inviteFailure(ctx context.Context, err error, log *slog.Logger) error {
	var le *leg.Error
	if errors.As(err, &le) {
		return le
	}
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		log.Info("call refused", "status", de.Res.StatusCode, "reason", de.Res.Reason)
		return &leg.Error{Cause: leg.CauseFromSIP(de.Res.StatusCode, de.Res.Reason)}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("invite: %w", ctx.Err())
	}
	log.Info("call failed", "error", err)
	return &leg.Error{Cause: leg.Timeout, Detail: err.Error()}
}

// confirmAnswer applies the callee's answer to our offer (the 200's SDP,
// or the early answer in a 183 when the 200 has none) and ACKs the 200.
// An answer we cannot use is ACKed and hung up at once.
func confirmAnswer(dlg *sipgo.DialogClientSession, ep media.Endpoint, earlySDP bool, log *slog.Logger) error {
	var refused error
	if body := dlg.InviteResponse.Body(); len(body) > 0 {
		if err := ep.Accept(context.Background(), body); err != nil && !earlySDP {
			cause := negotiationCause(err)
			log.Info("answer SDP refused", "cause", cause.Name, "error", err)
			refused = &leg.Error{Cause: cause, Detail: err.Error()}
		}
	} else if !earlySDP {
		refused = &leg.Error{Cause: leg.Incompatible, Detail: "200 OK without SDP"}
	}
	if refused != nil {
		_ = dlg.Ack(context.Background())
		_ = dlg.Bye(context.Background())
		return refused
	}
	if err := dlg.Ack(context.Background()); err != nil {
		log.Warn("ACK failed", "error", err)
	}
	return nil
}

// outLeg is a callee's side of a call (we are UAC).
type outLeg struct {
	core
	offer     []byte                     // our current SDP; guarded by core.mu
	dlg       *sipgo.DialogClientSession // guarded by core.mu
	call      string                     // the ID of the call this branch belongs to
	confirmed bool                       // answered; guarded by core.mu
}

func (l *outLeg) setDialog(d *sipgo.DialogClientSession) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dlg = d
}

func (l *outLeg) dialog() *sipgo.DialogClientSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dlg
}

func (l *outLeg) Ring(context.Context, bool) error { return nil }
func (l *outLeg) Answer(context.Context) error     { return nil }

func (l *outLeg) Hangup(ctx context.Context, c leg.Cause) error {
	if l.isEnded() {
		return nil
	}
	defer l.end()
	if err := l.dialog().Bye(ctx); err != nil {
		return fmt.Errorf("bye: %w", err)
	}
	return nil
}

func (l *outLeg) onAck(*sip.Request, sip.ServerTransaction) {}

func (l *outLeg) onBye(req *sip.Request, tx sip.ServerTransaction) {
	d := l.dialog()
	if d == nil {
		l.m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := d.ReadBye(req, tx); err != nil {
		l.log.Debug("BYE answer failed", "error", err)
	}
	l.peerHangup(leg.Normal)
	l.m.delDialog(l.id, l)
}

// end finishes the leg and forgets its dialog.
func (l *outLeg) end() {
	l.finish()
	l.m.delDialog(l.id, l)
}

func (l *outLeg) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	l.mu.Lock()
	cur := l.offer
	l.mu.Unlock()
	sdp, took := answerReinvite(l.m, l.ep, cur, req, tx, l.log)
	l.mu.Lock()
	l.offer = sdp
	l.mu.Unlock()
	if took {
		l.noteHold(req.Body())
	}
}

// onRefer takes a transfer request from the callee; NOTIFYs go to the
// callee's Contact within this dialog.
func (l *outLeg) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	d := l.dialog()
	if d == nil || d.InviteResponse == nil || d.InviteResponse.Contact() == nil {
		l.m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.core.onRefer(req, tx, d.InviteResponse.Contact().Address, d.Do)
}
