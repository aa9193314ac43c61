package mwi

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
)

// Subscription limits.
const (
	DefaultExpires = time.Hour
	MinExpires     = 60 * time.Second
	maxPerExt      = 16
	maxSubs        = 10000
	notifyTimeout  = 10 * time.Second
)

// Authenticator checks digest credentials; when it returns false it has
// answered the request.
type Authenticator interface {
	Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.User, bool)
}

// Responder sends a response on a server transaction.
type Responder interface {
	Respond(tx sip.ServerTransaction, res *sip.Response)
}

// Counter tells how many voice messages an extension has.
type Counter interface {
	Counts(ctx context.Context, ext string) (newMsgs, oldMsgs int, err error)
}

// Sender sends a request and waits for its final response (*sipgo.Client).
type Sender interface {
	Do(ctx context.Context, req *sip.Request, opts ...sipgo.ClientRequestOption) (*sip.Response, error)
}

// Bindings lists an extension's registered devices (unsolicited NOTIFY).
type Bindings interface {
	Lookup(ext string) []store.Binding
}

// Config configures a Server.
type Config struct {
	Host string // our host name or address: From and Message-Account of NOTIFYs
	// Unsolicited sends NOTIFYs to the registered devices of an extension
	// that has no subscription, for phones that never subscribe.
	Unsolicited bool
	Bindings    Bindings                                 // required with Unsolicited
	Prepare     func(req *sip.Request)                   // e.g. leave from our UDP listener; may be nil
	Contact     func(transport string) sip.ContactHeader // our Contact for a transport
}

// Server keeps message-summary subscriptions and sends their NOTIFYs.
type Server struct {
	cfg    Config
	counts Counter
	authn  Authenticator
	resp   Responder
	send   Sender
	log    *slog.Logger

	mu     sync.Mutex
	subs   map[string]*subscription // by Call-ID
	closed bool
	wg     sync.WaitGroup
	stop   chan struct{}
}

// New returns a Server. Register HandleSubscribe for SUBSCRIBE, tell it of
// mailbox changes with MailboxChanged, and run Run until Close.
func New(cfg Config, counts Counter, authn Authenticator, resp Responder, send Sender, log *slog.Logger) *Server {
	return &Server{cfg: cfg, counts: counts, authn: authn, resp: resp, send: send, log: log,
		subs: make(map[string]*subscription), stop: make(chan struct{})}
}

// subscription is one message-summary dialog (we are the notifier).
type subscription struct {
	ext       string
	callID    string
	ourTag    string
	from      sip.Uri // the subscriber's From, our NOTIFY's To
	fromTag   string
	target    sip.Uri // the subscriber's Contact
	dest      string  // where the SUBSCRIBE came from
	transport string

	expires atomic.Int64 // Unix nanoseconds

	ended atomic.Bool

	mu   sync.Mutex // serialises NOTIFYs (CSeq order)
	cseq uint32
}

func (sub *subscription) expiry() time.Time { return time.Unix(0, sub.expires.Load()) }

// HandleSubscribe answers a SUBSCRIBE: 489 for another event package,
// digest challenge, 403 for another extension's mailbox, 423 for too
// short an Expires, 481 for a refresh of an unknown subscription, else 200
// followed by a NOTIFY.
func (s *Server) HandleSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	if ev := eventPackage(req); ev != "message-summary" {
		s.reply(req, tx, 489, "Bad Event", "Allow-Events", "message-summary")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, ok := s.authn.Authenticate(ctx, req, tx, false)
	if !ok {
		return
	}
	ext := req.Recipient.User
	if ext == "" && req.To() != nil {
		ext = req.To().Address.User
	}
	if ext != u.Ext {
		s.log.Info("mwi: subscription to another extension's mailbox refused", "ext", ext, "user", u.Ext)
		s.reply(req, tx, 403, "Forbidden")
		return
	}
	expires, ok := requestExpires(req)
	if !ok {
		s.reply(req, tx, 400, "Bad Expires")
		return
	}
	if expires > 0 && expires < MinExpires {
		s.reply(req, tx, 423, "Interval Too Brief", "Min-Expires", strconv.Itoa(int(MinExpires.Seconds())))
		return
	}
	sub, code, reason := s.subscribe(req, ext, expires)
	if sub == nil {
		s.reply(req, tx, code, reason)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if to := res.To(); to != nil {
		if to.Params == nil {
			to.Params = sip.NewParams()
		}
		to.Params.Add("tag", sub.ourTag) // replaces the tag sipgo made up
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires.Seconds()))))
	if s.cfg.Contact != nil {
		c := s.cfg.Contact(req.Transport())
		res.AppendHeader(&c)
	}
	s.resp.Respond(tx, res)
	s.log.Info("mwi: subscribed", "ext", ext, "expires", expires, "source", req.Source())
	s.goNotify(sub, expires == 0)
}

// subscribe creates or refreshes the subscription of req; nil with a
// status when it cannot.
func (s *Server) subscribe(req *sip.Request, ext string, expires time.Duration) (*subscription, int, string) {
	callID := ""
	if c := req.CallID(); c != nil {
		callID = c.Value()
	}
	toTag := ""
	if to := req.To(); to != nil && to.Params != nil {
		toTag, _ = to.Params.Get("tag")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, 503, "Service Unavailable"
	}
	if toTag != "" {
		sub := s.subs[callID]
		if sub == nil || sub.ourTag != toTag || sub.ext != ext {
			return nil, 481, "Subscription Does Not Exist"
		}
		sub.expires.Store(time.Now().Add(expires).UnixNano())
		if expires == 0 {
			delete(s.subs, callID)
		}
		return sub, 0, ""
	}
	from, contact := req.From(), req.Contact()
	if from == nil || contact == nil || callID == "" {
		return nil, 400, "Missing From, Contact or Call-ID"
	}
	n := 0
	for _, o := range s.subs {
		if o.ext == ext {
			n++
		}
	}
	if n >= maxPerExt || len(s.subs) >= maxSubs {
		s.log.Warn("mwi: too many subscriptions", "ext", ext, "of_ext", n, "total", len(s.subs))
		return nil, 503, "Too Many Subscriptions"
	}
	fromTag, _ := from.Params.Get("tag")
	sub := &subscription{ext: ext, callID: callID, ourTag: sip.GenerateTagN(16), from: from.Address, fromTag: fromTag,
		target: contact.Address, dest: req.Source(), transport: strings.ToLower(req.Transport())}
	sub.expires.Store(time.Now().Add(expires).UnixNano())
	if expires > 0 {
		if old := s.subs[callID]; old != nil {
			old.end()
		}
		s.subs[callID] = sub
	}
	return sub, 0, ""
}

func (sub *subscription) end() { sub.ended.Store(true) }

// MailboxChanged sends the current counts to ext's subscribers, or, with
// Unsolicited and no subscriber, to its registered devices.
func (s *Server) MailboxChanged(ext string) {
	s.mu.Lock()
	var subs []*subscription
	for _, sub := range s.subs {
		if sub.ext == ext {
			subs = append(subs, sub)
		}
	}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	for _, sub := range subs {
		s.goNotify(sub, false)
	}
	if len(subs) == 0 && s.cfg.Unsolicited && s.cfg.Bindings != nil {
		for _, b := range s.cfg.Bindings.Lookup(ext) {
			s.goUnsolicited(b)
		}
	}
}

// goNotify sends sub a NOTIFY in the background (terminated when final).
func (s *Server) goNotify(sub *subscription, final bool) {
	if !s.track() {
		return
	}
	go func() {
		defer s.wg.Done()
		s.notify(sub, final)
	}()
}

func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// notify sends one in-dialog NOTIFY with the current counts. A subscriber
// that answers it with an error (481: it forgot the dialog) loses its
// subscription.
func (s *Server) notify(sub *subscription, final bool) {
	if s.notifyLocked(sub, final) {
		s.drop(sub)
	}
}

// notifyLocked sends the NOTIFY under sub.mu (held while waiting for the
// answer: NOTIFYs go out in CSeq order) and reports whether the
// subscription must be dropped. It never takes s.mu.
func (s *Server) notifyLocked(sub *subscription, final bool) (drop bool) {
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.ended.Load() && !final {
		return false
	}
	state := "terminated;reason=timeout"
	if left := time.Until(sub.expiry()); !final && left > 0 {
		state = "active;expires=" + strconv.Itoa(int(left.Seconds()))
	}
	body, err := s.body(ctx, sub.ext)
	if err != nil {
		s.log.Error("mwi: counting messages failed", "ext", sub.ext, "error", err)
		return false
	}
	sub.cseq++
	req := sip.NewRequest(sip.NOTIFY, sub.target)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: sub.ext, Host: s.cfg.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sub.ourTag)
	to := &sip.ToHeader{Address: sub.from, Params: sip.NewParams()}
	if sub.fromTag != "" {
		to.Params.Add("tag", sub.fromTag)
	}
	cid := sip.CallIDHeader(sub.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if final {
		sub.end()
	}
	code, err := s.sendNotify(ctx, req, sub.dest, sub.transport, body)
	if err != nil || code >= 300 {
		s.log.Info("mwi: NOTIFY not accepted: subscription dropped", "ext", sub.ext, "status", code, "error", err)
		sub.end()
		return true
	}
	s.log.Debug("mwi: NOTIFY", "ext", sub.ext, "state", state, "status", code)
	return false
}

// goUnsolicited sends a registered device an out-of-dialog NOTIFY.
func (s *Server) goUnsolicited(b store.Binding) {
	if !s.track() {
		return
	}
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		defer cancel()
		var target sip.Uri
		if err := sip.ParseUri(b.Contact, &target); err != nil {
			s.log.Warn("mwi: unusable contact", "ext", b.Ext, "contact", b.Contact, "error", err)
			return
		}
		body, err := s.body(ctx, b.Ext)
		if err != nil {
			s.log.Error("mwi: counting messages failed", "ext", b.Ext, "error", err)
			return
		}
		req := sip.NewRequest(sip.NOTIFY, target)
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: b.Ext, Host: s.cfg.Host}, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(16))
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: b.Ext, Host: s.cfg.Host}})
		req.AppendHeader(sip.NewHeader("Subscription-State", "active"))
		code, err := s.sendNotify(ctx, req, b.Source, strings.ToLower(b.Transport), body)
		s.log.Info("mwi: unsolicited NOTIFY", "ext", b.Ext, "contact", b.Contact, "status", code, "error", err)
	}()
}

// sendNotify completes req (Event, Contact, body), sends it to dest over
// transport and returns the final status.
func (s *Server) sendNotify(ctx context.Context, req *sip.Request, dest, transport string, body []byte) (int, error) {
	req.SetTransport(strings.ToUpper(transport))
	req.SetDestination(dest)
	if s.cfg.Prepare != nil {
		s.cfg.Prepare(req)
	}
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	if s.cfg.Contact != nil {
		c := s.cfg.Contact(transport)
		req.AppendHeader(&c)
	}
	req.AppendHeader(sip.NewHeader("Content-Type", ContentType))
	req.SetBody(body)
	res, err := s.send.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("mwi: notify: %w", err)
	}
	return res.StatusCode, nil
}

func (s *Server) body(ctx context.Context, ext string) ([]byte, error) {
	n, o, err := s.counts.Counts(ctx, ext)
	if err != nil {
		return nil, err
	}
	return Summary{Account: "sip:" + ext + "@" + s.cfg.Host, New: n, Old: o}.Body(), nil
}

func (s *Server) drop(sub *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs[sub.callID] == sub {
		delete(s.subs, sub.callID)
	}
}

// Subscriptions returns how many subscriptions are active.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// Run ends subscriptions that ran out (with a final NOTIFY) until ctx ends
// or Close.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		case now := <-t.C:
			s.expire(now)
		}
	}
}

func (s *Server) expire(now time.Time) {
	s.mu.Lock()
	var gone []*subscription
	for id, sub := range s.subs {
		if now.After(sub.expiry()) {
			gone = append(gone, sub)
			delete(s.subs, id)
		}
	}
	s.mu.Unlock()
	for _, sub := range gone {
		s.goNotify(sub, true)
	}
}

// Close stops taking subscriptions and waits for the NOTIFYs in flight
// (each bounded by its timeout).
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for i := 0; i+1 < len(hdrs); i += 2 {
		res.AppendHeader(sip.NewHeader(hdrs[i], hdrs[i+1]))
	}
	s.resp.Respond(tx, res)
}

// eventPackage returns the Event header's package, lower-cased ("" if
// none).
func eventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o") // compact form
	}
	if h == nil {
		return ""
	}
	pkg, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(pkg))
}

// requestExpires returns the Expires header (DefaultExpires when absent,
// at most DefaultExpires); ok is false for a malformed value.
func requestExpires(req *sip.Request) (time.Duration, bool) {
	h := req.GetHeader("Expires")
	if h == nil {
		return DefaultExpires, true
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, DefaultExpires), true
}
