package registrar

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/sipheader"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
	"github.com/softswitch/softswitch/b2bua/store"
)

// Store persists bindings so UDP registrations survive a restart.
type Store interface {
	Users
	SaveBinding(ctx context.Context, b store.Binding) error
	SaveBindings(ctx context.Context, bs []store.Binding) (int, error)
	DeleteBinding(ctx context.Context, ext, contact string) error
	Bindings(ctx context.Context) ([]store.Binding, error)
	DeleteBindingsWhere(ctx context.Context, transports []string) (int, error)
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
	BindingsFor(ctx context.Context, ext string) ([]store.Binding, error)
}

// RegistrarOption configures a Registrar.
type RegistrarOption func(*Registrar)

// BehindProxies makes a node of several behind proxies (Kamailio) that
// share one database: a REGISTER from a host isProxy accepts keeps its Path
// (RFC 3327) with the binding (echoed in the 200, used as the Route of
// requests to the contact), and the bindings are the store's, not this
// process's: any node may have taken an extension's REGISTER, so lookups
// and changes read the store.
func BehindProxies(isProxy func(host string) bool) RegistrarOption {
	return func(r *Registrar) { r.isProxy = isProxy }
}

// connectionBound are the transports whose bindings live as long as their connection.
var connectionBound = []string{"tcp", "tls", "ws", "wss"}

// Registrar handles REGISTER and keeps the bindings of every extension.
type Registrar struct {
	lim   Limits
	store Store
	auth  *Authenticator
	resp  Responder
	log   *slog.Logger
	now   func() time.Time
	// isProxy, when set, names the proxies this node sits behind (see
	// BehindProxies); nil: a single node, bindings in memory.
	isProxy func(host string) bool

	mu       sync.Mutex
	bindings map[string][]binding // by extension
	// pending are refreshes not yet written (see commit), by ext|contact.
	pending map[string]store.Binding
}

// FlushInterval is how often refreshes are written to the store: a
// `kill -9` loses at most the refreshes of the last interval, whose
// bindings come back with the expiry they had before.
const FlushInterval = time.Second

// New returns a Registrar; call Restore before serving.
func New(lim Limits, st Store, a *Authenticator, resp Responder, log *slog.Logger, opts ...RegistrarOption) *Registrar {
	r := &Registrar{
		lim: lim.withDefaults(), store: st, auth: a, resp: resp, log: log, now: time.Now,
		bindings: make(map[string][]binding), pending: make(map[string]store.Binding),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// shared tells whether the bindings are the store's (BehindProxies).
func (r *Registrar) shared() bool { return r.isProxy != nil }

// Restore loads the UDP bindings kept from the last run and drops the
// connection-bound ones: their connections died with the old process.
//
// Behind proxies the connection-bound bindings are kept: they may be
// another node's, alive on its connections (and bindings through a proxy
// are bound to no connection of ours).
func (r *Registrar) Restore(ctx context.Context) error {
	n := 0
	if !r.shared() {
		var err error
		if n, err = r.store.DeleteBindingsWhere(ctx, connectionBound); err != nil {
			return fmt.Errorf("restore bindings: %w", err)
		}
	}
	if _, err := r.store.DeleteExpired(ctx, r.now()); err != nil {
		return fmt.Errorf("restore bindings: %w", err)
	}
	all, err := r.store.Bindings(ctx)
	if err != nil {
		return fmt.Errorf("restore bindings: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range all {
		r.bindings[b.Ext] = append(r.bindings[b.Ext], binding{Binding: b})
	}
	r.log.Info("registrations restored", "kept", len(all), "dropped_connection_bound", n)
	return nil
}

// Lookup returns the live bindings of an extension. Behind proxies it reads
// the store (another node may have taken the REGISTER), falling back to
// memory when the store fails.
func (r *Registrar) Lookup(ext string) []store.Binding {
	now := r.now()
	if r.shared() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		bs, err := r.store.BindingsFor(ctx, ext)
		cancel()
		if err == nil {
			out := bs[:0]
			for _, b := range bs {
				if b.Expires.After(now) {
					out = append(out, b)
				}
			}
			return out
		}
		r.log.Error("reading bindings from the shared store failed: using this node's", "ext", ext, "error", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Binding
	for _, b := range r.bindings[ext] {
		if b.Expires.After(now) {
			out = append(out, b.Binding)
		}
	}
	return out
}

// CountByTransport counts the live bindings by transport ("udp", "wss", ...).
func (r *Registrar) CountByTransport() map[string]int {
	now := r.now()
	out := make(map[string]int)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, bs := range r.bindings {
		for _, b := range bs {
			if b.Expires.After(now) {
				out[b.Transport]++
			}
		}
	}
	return out
}

// Registered tells whether a live binding was registered from host (an
// IP address, any port): a device or PBX that has proved who it is.
func (r *Registrar) Registered(host string) bool {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, bs := range r.bindings {
		for _, b := range bs {
			if b.Expires.After(now) && sourcekey.Host(b.Source) == host {
				return true
			}
		}
	}
	return false
}

// ConnectionClosed drops the bindings made over a connection that closed.
func (r *Registrar) ConnectionClosed(transport, remote string) {
	key := connKey(transport, remote)
	var gone []binding
	r.mu.Lock()
	for ext, bs := range r.bindings {
		kept := bs[:0]
		for _, b := range bs {
			if b.connKey == key {
				gone = append(gone, b)
				continue
			}
			kept = append(kept, b)
		}
		r.setLocked(ext, kept)
	}
	r.mu.Unlock()
	for _, b := range gone {
		r.log.Info("binding removed: connection closed", "ext", b.Ext, "contact", b.Contact, "transport", transport, "source", remote)
		r.forget(b)
	}
}

// Run removes expired bindings and writes refreshes until ctx ends, then
// writes the last ones.
func (r *Registrar) Run(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	f := time.NewTicker(FlushInterval)
	defer f.Stop()
	for {
		select {
		case <-ctx.Done():
			r.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			r.expire()
		case <-f.C:
			r.Flush(ctx)
		}
	}
}

// Flush writes the refreshes not written yet in one transaction. It holds
// the registrar's lock meanwhile, so a binding removed during a flush is
// removed after it was written, never before.
func (r *Registrar) Flush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return
	}
	bs := make([]store.Binding, 0, len(r.pending))
	for _, b := range r.pending {
		bs = append(bs, b)
	}
	if _, err := r.store.SaveBindings(ctx, bs); err != nil {
		// Kept for the next flush; the bindings in memory are right.
		r.log.Error("writing refreshed bindings failed", "bindings", len(bs), "error", err)
		return
	}
	clear(r.pending)
}

func (r *Registrar) expire() {
	now := r.now()
	var gone []binding
	r.mu.Lock()
	for ext, bs := range r.bindings {
		kept := bs[:0]
		for _, b := range bs {
			if !b.Expires.After(now) {
				gone = append(gone, b)
				continue
			}
			kept = append(kept, b)
		}
		r.setLocked(ext, kept)
	}
	r.mu.Unlock()
	if r.shared() {
		// Another node may have refreshed what this one saw expire: only
		// what the store holds as expired goes.
		for _, b := range gone {
			r.mu.Lock()
			delete(r.pending, pendingKey(b.Binding))
			r.mu.Unlock()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if n, err := r.store.DeleteExpired(ctx, now); err != nil {
			r.log.Error("deleting expired bindings failed", "error", err)
		} else if n > 0 {
			r.log.Info("bindings expired", "bindings", n)
		}
		return
	}
	for _, b := range gone {
		r.log.Info("binding expired", "ext", b.Ext, "contact", b.Contact)
		r.forget(b)
	}
}

func (r *Registrar) setLocked(ext string, bs []binding) {
	if len(bs) == 0 {
		delete(r.bindings, ext)
		return
	}
	r.bindings[ext] = bs
}

func (r *Registrar) forget(b binding) {
	r.mu.Lock()
	delete(r.pending, pendingKey(b.Binding))
	r.mu.Unlock()
	if err := r.store.DeleteBinding(context.Background(), b.Ext, b.Contact); err != nil {
		r.log.Error("deleting binding failed", "ext", b.Ext, "contact", b.Contact, "error", err)
	}
}

// HandleRegister is the REGISTER handler.
func (r *Registrar) HandleRegister(req *sip.Request, tx sip.ServerTransaction) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, ok := r.auth.Authenticate(ctx, req, tx, false)
	if !ok {
		return
	}
	if req.To().Address.User != u.Ext { // validated present by the server
		r.log.Warn("register refused: credentials of another user", "ext", u.Ext, "to", req.To().Address.User, "source", req.Source())
		r.reply(req, tx, &rejection{code: 403, reason: "Forbidden: credentials do not match the To user"})
		return
	}
	upd, rej := r.parse(req, u.Ext)
	if rej != nil {
		r.reply(req, tx, rej)
		return
	}
	upd.until = r.auth.CredentialsExpiry(req, false)
	current, rej := r.commit(ctx, upd)
	if rej != nil {
		r.reply(req, tx, rej)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	now := r.now()
	for _, b := range current {
		res.AppendHeader(sip.NewHeader("Contact", contactValue(b, now)))
	}
	if upd.path != "" {
		// RFC 3327 §5.3: the Path stored is returned to the UA.
		res.AppendHeader(sip.NewHeader("Path", upd.path))
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	r.resp.Respond(tx, res)
}

// commit applies upd to the extension's bindings and persists the change.
// Requests of one extension are serialised; a slow disk slows only them.
func (r *Registrar) commit(ctx context.Context, upd update) ([]store.Binding, *rejection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shared() {
		// The store is the truth: the extension's last REGISTER may have
		// gone to another node.
		bs, err := r.store.BindingsFor(ctx, upd.ext)
		if err != nil {
			r.log.Error("reading bindings failed", "ext", upd.ext, "error", err)
			return nil, &rejection{code: 500, reason: "Server Internal Error"}
		}
		r.bindings[upd.ext] = mergeShared(r.bindings[upd.ext], bs)
	}
	cur := r.bindings[upd.ext]
	if !upd.star && len(upd.contacts) == 0 {
		return liveOf(cur, upd.now), nil
	}
	next, removed, rej := apply(cur, upd, r.lim)
	if rej != nil {
		return nil, rej
	}
	for _, b := range removed {
		delete(r.pending, pendingKey(b.Binding))
		if err := r.store.DeleteBinding(ctx, b.Ext, b.Contact); err != nil {
			r.log.Error("deleting binding failed", "ext", b.Ext, "error", err)
			return nil, &rejection{code: 500, reason: "Server Internal Error"}
		}
		r.log.Info("binding removed", "ext", b.Ext, "contact", b.Contact)
	}
	for _, b := range next {
		if b.CallID != upd.callID || b.CSeq != upd.cseq {
			continue // untouched by this request
		}
		key := pendingKey(b.Binding)
		// Behind proxies a refresh is written at once: another node
		// reads the store, and would see (and sweep) the old expiry.
		if refreshes(cur, b) && !r.shared() {
			r.pending[key] = b.Binding // written by the next Flush
			continue
		}
		delete(r.pending, key)
		if err := r.store.SaveBinding(ctx, b.Binding); err != nil {
			r.log.Error("saving binding failed", "ext", b.Ext, "error", err)
			return nil, &rejection{code: 500, reason: "Server Internal Error"}
		}
	}
	r.setLocked(upd.ext, next)
	return liveOf(next, upd.now), nil
}

// refreshes tells whether b only refreshes a binding of cur: the same
// contact from the same device, source and connection, so that what a
// restart would restore differs only in expiry and Call-ID/CSeq. Such a
// write can wait for the next Flush; anything else is written at once.
func refreshes(cur []binding, b binding) bool {
	for _, c := range cur {
		if c.Contact == b.Contact {
			return c.Instance == b.Instance && c.RegID == b.RegID && c.Transport == b.Transport &&
				c.Source == b.Source && c.connKey == b.connKey && c.UserAgent == b.UserAgent
		}
	}
	return false
}

func pendingKey(b store.Binding) string { return b.Ext + "|" + b.Contact }

func liveOf(bs []binding, now time.Time) []store.Binding {
	out := make([]store.Binding, 0, len(bs))
	for _, b := range bs {
		if b.Expires.After(now) {
			out = append(out, b.Binding)
		}
	}
	return out
}

// parse reads the Contact and Expires headers of a REGISTER.
func (r *Registrar) parse(req *sip.Request, ext string) (update, *rejection) {
	transport := strings.ToLower(req.Transport())
	upd := update{
		ext: ext, callID: req.CallID().Value(), cseq: req.CSeq().SeqNo,
		transport: transport, source: req.Source(), now: r.now(),
	}
	if ua := sipheader.Get(req, "User-Agent"); ua != nil {
		upd.userAgent = ua.Value()
	}
	if r.isProxy != nil && r.isProxy(sourcekey.Host(req.Source())) {
		if p := pathOf(req); p != "" {
			// Through a proxy: requests to the contact go back through
			// it, so the binding is the proxy's, not this connection's.
			upd.path = p
		}
	}
	if transport != "udp" && upd.path == "" {
		upd.connKey = connKey(transport, req.Source())
	}
	headerExpires := -1
	if h := sipheader.Get(req, "Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return upd, &rejection{code: 400, reason: "Bad Request: invalid Expires"}
		}
		headerExpires = min(n, 1<<30)
	}
	for _, h := range sipheader.All(req, "Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			return upd, &rejection{code: 400, reason: "Bad Request: invalid Contact"}
		}
		if ch.Address.Wildcard {
			if headerExpires != 0 {
				return upd, &rejection{code: 400, reason: "Bad Request: Contact * needs Expires: 0"}
			}
			upd.star = true
			continue
		}
		c := contact{uri: ch.Address.String(), expires: headerExpires}
		if !dialable(c.uri) {
			return upd, &rejection{code: 400, reason: "Bad Request: invalid Contact URI"}
		}
		if v, ok := ch.Params.Get("expires"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return upd, &rejection{code: 400, reason: "Bad Request: invalid expires parameter"}
			}
			c.expires = min(n, 1<<30)
		}
		if v, ok := ch.Params.Get("+sip.instance"); ok {
			c.instance = v
		}
		if v, ok := ch.Params.Get("reg-id"); ok {
			c.regID, _ = strconv.Atoi(v)
		}
		upd.contacts = append(upd.contacts, c)
	}
	return upd, nil
}

func (r *Registrar) reply(req *sip.Request, tx sip.ServerTransaction, rej *rejection) {
	reply(r.resp, req, tx, rej.code, rej.reason, rej.headers...)
}

// dialable reports whether a Contact URI as we store it is a SIP URI with
// a host and port that parses back to itself: it is dialled later, and
// echoed to every device of the extension in the 200 to each REGISTER.
func dialable(uri string) bool {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return (scheme == "sip" || scheme == "sips") && validHost(u.Host) && u.Port >= 0 && u.Port <= 65535 && u.String() == uri
}

// validHost reports whether h is an IPv4 address, a bracketed IPv6
// reference or a host name (RFC 3261 §25.1 host).
func validHost(h string) bool {
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		return err == nil && a.Is6()
	}
	return h != "" && !strings.ContainsFunc(h, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	})
}

// contactValue renders a binding for the 200 OK, with its remaining time
// and the instance parameters a client looks for to find its own binding.
func contactValue(b store.Binding, now time.Time) string {
	var sb strings.Builder
	sb.WriteString("<")
	sb.WriteString(b.Contact)
	sb.WriteString(">;expires=")
	sb.WriteString(strconv.Itoa(max(0, int(b.Expires.Sub(now).Round(time.Second)/time.Second))))
	if b.Instance != "" {
		sb.WriteString(";+sip.instance=")
		sb.WriteString(b.Instance)
	}
	if b.RegID != 0 {
		sb.WriteString(";reg-id=")
		sb.WriteString(strconv.Itoa(b.RegID))
	}
	return sb.String()
}

func connKey(transport, remote string) string {
	return strings.ToLower(transport) + "|" + remote
}

// pathOf joins the values of req's Path headers (RFC 3327), in order.
func pathOf(req *sip.Request) string {
	var parts []string
	for _, h := range req.GetHeaders("Path") {
		if v := strings.TrimSpace(h.Value()); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, ", ")
}

// mergeShared is the store's bindings of an extension, each keeping the
// connection this node knows it on (a direct registration to this node).
func mergeShared(mem []binding, stored []store.Binding) []binding {
	out := make([]binding, 0, len(stored))
	for _, b := range stored {
		nb := binding{Binding: b}
		for _, m := range mem {
			if m.Contact == b.Contact && m.Source == b.Source {
				nb.connKey = m.connKey
			}
		}
		out = append(out, nb)
	}
	return out
}
