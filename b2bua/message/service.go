package message

import (
	"context"
	"errors"

	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

// Defaults of Config.
const (
	DefaultMaxBody    = 8 << 10
	DefaultMaxPending = 100
	sendTimeout       = 8 * time.Second
	flushBatch        = 50
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

// Sender sends a request and waits for its final response (*sipgo.Client).
type Sender interface {
	Do(ctx context.Context, req *sip.Request, opts ...sipgo.ClientRequestOption) (*sip.Response, error)
}

// Bindings lists an extension's registered devices.
type Bindings interface {
	Lookup(ext string) []store.Binding
}

// Store keeps the messages of extensions with no device registered, and
// knows the extensions.
type Store interface {
	User(ctx context.Context, ext string) (store.User, error)
	AddMessage(ctx context.Context, m store.Message, maxPending int) (int64, error)
	PendingMessages(ctx context.Context, ext string, limit int) ([]store.Message, error)
	DeleteMessage(ctx context.Context, id int64) error
}

// Config configures a Service.
type Config struct {
	Host string // our host name or address: From and To of what we send
	// NoStore answers 480 instead of storing a message for an extension
	// with no device registered (storing is the default).
	NoStore    bool
	MaxBody    int                                      // bytes; larger bodies get 413; default 8 KiB
	MaxPending int                                      // stored messages per extension; default 100
	Prepare    func(req *sip.Request)                   // e.g. leave from our UDP listener; may be nil
	Contact    func(transport string) sip.ContactHeader // our Contact for a transport; may be nil
	Dialplan   Dialplan                                 // on_message; may be nil (extension to extension only)
	Trunks     Trunks                                   // the carriers; may be nil (no trunk messages)
}

// Trunks are the carriers messages come from and go out through
// (*sipleg.Manager).
type Trunks interface {
	// TrunkOf tells whether req comes from a carrier: its name and the
	// DID req is for.
	TrunkOf(req *sip.Request) (name, did string, ok bool)
	// TrunkMessage sends a MESSAGE out through the trunk of target
	// "trunk/NAME/NUMBER" from caller and returns the carrier's final
	// status, or with an error the status to answer instead.
	TrunkMessage(ctx context.Context, target, caller, callerName, contentType string, body []byte) (int, error)
}

// origin is where a MESSAGE came from: a carrier (trunk set) or an
// authenticated extension, and how it is presented to a carrier: number
// (default the extension) and display name.
type origin struct {
	trunk string
	// spoofable: the carrier was known by the source address of a UDP
	// datagram, which anyone can forge.
	spoofable bool
	number    string
	name      string
}

// Dialplan decides what a MESSAGE may do (the script's on_message).
type Dialplan interface {
	OnMessage(ctx context.Context, m dialplan.Message) (dialplan.MessageDecision, error)
}

// Service answers MESSAGE requests and delivers stored messages.
type Service struct {
	cfg   Config
	authn Authenticator
	resp  Responder
	send  Sender
	binds Bindings
	st    Store
	log   *slog.Logger

	mu       sync.Mutex
	flushing map[string]bool // extensions whose stored messages are being delivered
	// none holds the extensions a flush found with no stored message, so
	// that their REGISTER refreshes query nothing (issue 20); storing a
	// message for one removes it. adds counts the messages stored, so a
	// flush that raced with one does not mark its extension empty.
	none        map[string]bool
	adds        uint64
	closed      bool // no new flush
	sendsClosed bool
	wg          sync.WaitGroup // sends in flight
	flushers    sync.WaitGroup
}

// New returns a Service; register HandleMessage for MESSAGE and wrap the
// REGISTER handler with AfterRegister.
func New(cfg Config, authn Authenticator, resp Responder, send Sender, binds Bindings, st Store, log *slog.Logger) *Service {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	return &Service{cfg: cfg, authn: authn, resp: resp, send: send, binds: binds, st: st, log: log,
		flushing: make(map[string]bool), none: make(map[string]bool)}
}

// HandleMessage answers a MESSAGE: 413 for a body over the limit; a
// carrier's (recognised by its address, like its INVITEs) is for the DID
// it names, any other is challenged (407) until signed by an extension;
// then on_message decides when the
// dialplan has one (its reject code, 200 for a reply, 403 when it decided
// nothing); else, and for its deliver targets: 404 for a recipient that is
// no extension, 200 when a device of the recipient took it, 202 when it
// was stored for later and 480 when it could be neither.
func (s *Service) HandleMessage(req *sip.Request, tx sip.ServerTransaction) {
	if n := len(req.Body()); n > s.cfg.MaxBody {
		s.log.Info("message: body too large", "bytes", n, "max", s.cfg.MaxBody, "source", req.Source())
		s.reply(req, tx, 413, "Request Entity Too Large")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*sendTimeout)
	defer cancel()
	m := store.Message{Ext: req.Recipient.User, Body: req.Body(), Created: time.Now()}
	var o origin
	if name, did, ok := s.trunkOf(req); ok {
		// The carrier's caller is whatever number it presents.
		o.trunk, m.Ext, m.Sender = name, did, req.From().Address.User
		o.spoofable = strings.EqualFold(req.Transport(), "udp")
	} else {
		u, ok := s.authn.Authenticate(ctx, req, tx, true)
		if !ok {
			return
		}
		m.Sender, o.name = u.Ext, u.Name
		if f := req.From(); f != nil && f.DisplayName != "" {
			o.name = f.DisplayName
		}
	}
	if ct := req.ContentType(); ct != nil {
		m.ContentType = ct.Value()
	}
	code := s.route(ctx, m, o)
	s.log.Info("message", "from", m.Sender, "to", m.Ext, "trunk", o.trunk, "bytes", len(m.Body), "status", code)
	s.reply(req, tx, code, statusText(code))
}

func (s *Service) trunkOf(req *sip.Request) (name, did string, ok bool) {
	if s.cfg.Trunks == nil || req.From() == nil {
		return "", "", false
	}
	return s.cfg.Trunks.TrunkOf(req)
}

// route decides and delivers m: by on_message when the dialplan has one,
// else to the extension m.Ext (a carrier's DID too). It returns the
// status to answer.
func (s *Service) route(ctx context.Context, m store.Message, o origin) int {
	if s.cfg.Dialplan != nil {
		d, err := s.cfg.Dialplan.OnMessage(ctx, dialplan.Message{From: m.Sender, To: m.Ext, Trunk: o.trunk,
			Body: string(m.Body), ContentType: m.ContentType})
		if err != nil {
			s.log.Error("message: on_message failed", "from", m.Sender, "to", m.Ext, "error", err)
			return 500
		}
		if d.Handled {
			return s.decided(ctx, m, o, d)
		}
	}
	if code := s.checkExt(ctx, m.Ext); code != 0 {
		return code
	}
	return s.deliverOrKeep(ctx, m)
}

// decided carries out on_message's decisions.
func (s *Service) decided(ctx context.Context, m store.Message, o origin, d dialplan.MessageDecision) int {
	if d.Reject != 0 {
		return d.Reject
	}
	if d.Replied {
		s.goReply(m, o, d.Reply)
	}
	if d.CallerNumber != "" {
		o.number, o.name = d.CallerNumber, d.CallerName // presented on trunk targets
	}
	code := 0
	for _, target := range d.Deliver {
		c := s.deliverTo(ctx, m, o, target)
		if c != 0 && (code == 0 || c == 200 || (success(c) && !success(code))) {
			code = c // the best outcome: delivered, else stored or accepted, else the first failure
		}
	}
	switch {
	case code != 0:
		return code
	case len(d.Deliver) > 0:
		return 404
	case d.Replied:
		return 200
	}
	return 403 // on_message decided nothing: not routed
}

func success(code int) bool { return code >= 200 && code < 300 }

// deliverTo delivers m to one on_message target: "trunk/NAME/NUMBER", or
// an extension ("1002" or "user/1002"). It returns the outcome's status,
// 0 for a target skipped (no such extension).
func (s *Service) deliverTo(ctx context.Context, m store.Message, o origin, target string) int {
	if strings.HasPrefix(target, "trunk/") {
		return s.toTrunk(ctx, m, o, target)
	}
	ext := strings.TrimPrefix(target, "user/")
	if c := s.checkExt(ctx, ext); c != 0 {
		s.log.Warn("message: on_message target is no extension: skipped", "target", target, "status", c)
		return 0
	}
	m.Ext = ext
	return s.deliverOrKeep(ctx, m)
}

// toTrunk sends m out through a carrier: only an extension's message may
// go (same rule as calls: a carrier's message is not relayed to a
// carrier). It returns the carrier's status.
func (s *Service) toTrunk(ctx context.Context, m store.Message, o origin, target string) int {
	if o.trunk != "" {
		s.log.Warn("message: a carrier's message is not sent to a trunk", "trunk", o.trunk, "target", target, "from", m.Sender)
		return 403
	}
	if s.cfg.Trunks == nil {
		s.log.Warn("message: no trunks configured", "target", target)
		return 404
	}
	caller := m.Sender
	if o.number != "" {
		caller = o.number
	}
	code, err := s.cfg.Trunks.TrunkMessage(ctx, target, caller, o.name, m.ContentType, m.Body)
	if err != nil {
		s.log.Warn("message: not sent through the trunk", "target", target, "from", m.Sender, "status", code, "error", err)
		return code
	}
	s.log.Info("message: sent through the trunk", "target", target, "from", m.Sender, "status", code)
	return code
}

// checkExt returns 0 when ext is an extension, else the status to answer.
func (s *Service) checkExt(ctx context.Context, ext string) int {
	if _, err := s.st.User(ctx, ext); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 404
		}
		s.log.Error("message: user lookup failed", "ext", ext, "error", err)
		return 500
	}
	return 0
}

// deliverOrKeep delivers m (200), relays the devices' refusal when every
// device refused it, or keeps it for later (202, or 480).
func (s *Service) deliverOrKeep(ctx context.Context, m store.Message) int {
	if code := s.Deliver(ctx, m); code != 0 {
		return code
	}
	return s.keep(ctx, m)
}

// goReply sends on_message's reply text to the sender's devices, from the
// address the message was sent to, in the background.
// A carrier's sender gets it back through that carrier.
func (s *Service) goReply(m store.Message, o origin, text string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.flushers.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.flushers.Done()
		r := store.Message{Ext: m.Sender, Sender: m.Ext, ContentType: "text/plain;charset=UTF-8", Body: []byte(text)}
		if o.trunk != "" && o.spoofable {
			// A forged "carrier" datagram must not make us send to any
			// number it names through the trunk, with our credentials.
			s.log.Warn("message: no reply through the trunk to a carrier's message over UDP (its source cannot be verified)",
				"to", m.Sender, "trunk", o.trunk)
			return
		}
		if o.trunk != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*sendTimeout)
			defer cancel()
			code, err := s.cfg.Trunks.TrunkMessage(ctx, "trunk/"+o.trunk+"/"+m.Sender, m.Ext, "", r.ContentType, r.Body)
			s.log.Info("message: on_message reply through the trunk", "to", m.Sender, "trunk", o.trunk, "from", m.Ext,
				"status", code, "error", err)
			return
		}
		code := s.Deliver(context.Background(), r)
		s.log.Info("message: on_message reply", "to", m.Sender, "from", m.Ext, "delivered", code == 200)
	}()
}

// keep stores m for later delivery: 202, or 480 when storing is off or
// fails.
func (s *Service) keep(ctx context.Context, m store.Message) int {
	if s.cfg.NoStore {
		return 480
	}
	s.mu.Lock()
	s.adds++ // before the write: a flush reading before it sees it did not finish
	delete(s.none, m.Ext)
	s.mu.Unlock()
	if _, err := s.st.AddMessage(ctx, m, s.cfg.MaxPending); err != nil {
		s.log.Warn("message: storing failed", "to", m.Ext, "error", err)
		return 480
	}
	return 202
}

// Deliver sends m to every registered device of m.Ext at once and returns
// 200 as soon as one takes it (2xx); when every device refused it, the
// lowest refusal (e.g. 415); else 0 (none registered, or one did not
// answer). The other devices still get it (each send bounded in time).
func (s *Service) Deliver(ctx context.Context, m store.Message) int {
	bs := s.binds.Lookup(m.Ext)
	if len(bs) == 0 {
		return 0
	}
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	results := make(chan int, len(bs)) // buffered: late senders never block
	var sends sync.WaitGroup
	for _, b := range bs {
		if !s.track() {
			break
		}
		sends.Add(1)
		go func() {
			defer s.wg.Done()
			defer sends.Done()
			results <- s.sendTo(sendCtx, b, m)
		}()
	}
	go func() { // the sends end by sendCtx's deadline at the latest
		sends.Wait()
		cancel()
		close(results)
	}()
	refused, silent := 0, false
	for {
		select {
		case code, ok := <-results:
			switch {
			case !ok && (silent || refused == 0):
				return 0
			case !ok:
				return refused
			case code >= 200 && code < 300:
				return 200
			case code >= 300 && (refused == 0 || code < refused):
				refused = code
			case code < 200:
				silent = true
			}
		case <-ctx.Done():
			return 0
		}
	}
}

// track counts a send in flight, unless Close has begun.
func (s *Service) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sendsClosed {
		return false
	}
	s.wg.Add(1)
	return true
}

// sendTo sends m to one device and returns its final status (0 when it
// did not answer).
func (s *Service) sendTo(ctx context.Context, b store.Binding, m store.Message) int {
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		s.log.Warn("message: unusable contact", "ext", b.Ext, "contact", b.Contact, "error", err)
		return 0
	}
	req := sip.NewRequest(sip.MESSAGE, target)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: m.Sender, Host: s.cfg.Host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: m.Ext, Host: s.cfg.Host}})
	if !m.Created.IsZero() && time.Since(m.Created) > time.Second { // a stored message says when it was sent
		req.AppendHeader(sip.NewHeader("Date", m.Created.UTC().Format(time.RFC1123)))
	}
	req.SetTransport(sip.NetworkToUpper(b.Transport))
	req.SetDestination(b.Source)
	if s.cfg.Prepare != nil {
		s.cfg.Prepare(req)
	}
	if m.ContentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", m.ContentType))
	}
	req.SetBody(m.Body)
	res, err := s.send.Do(ctx, req)
	if err != nil {
		s.log.Info("message: device did not answer", "ext", b.Ext, "contact", b.Contact, "error", err)
		return 0
	}
	return res.StatusCode
}

func (s *Service) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	s.resp.Respond(tx, sip.NewResponseFromRequest(req, code, reason, nil))
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 503:
		return "Service Unavailable"
	case 500:
		return "Server Internal Error"
	}
	return "Refused " + strconv.Itoa(code)
}
