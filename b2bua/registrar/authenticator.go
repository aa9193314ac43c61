package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/auth"
	"github.com/softswitch/softswitch/b2bua/sipheader"
	"github.com/softswitch/softswitch/b2bua/sourcekey"
	"github.com/softswitch/softswitch/b2bua/store"
)

// Users looks up extensions.
type Users interface {
	User(ctx context.Context, ext string) (store.User, error)
}

// Responder sends a response on a server transaction.
type Responder interface {
	Respond(tx sip.ServerTransaction, res *sip.Response)
}

// Authenticator challenges requests with digest auth and checks answers.
type Authenticator struct {
	users     Users
	verifier  *auth.Verifier
	guard     *auth.Guard
	ephemeral *auth.Ephemeral
	resp      Responder
	log       *slog.Logger
	isProxy   func(host string) bool // may be nil
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithEphemeral accepts ephemeral credentials (auth_ephemeral, the TURN
// REST API scheme) for existing extensions, besides their passwords.
func WithEphemeral(e *auth.Ephemeral) Option {
	return func(a *Authenticator) { a.ephemeral = e }
}

// ClientHeader is the header a proxy in front of us (deploy/kamailio) sets
// to the address it received a request from, after removing any the
// client sent.
const ClientHeader = "X-Softswitch-Client"

// WithProxies names the proxies (Kamailio) requests may come through: for
// those, the client is the address the proxy names in ClientHeader, so
// that one client's failures throttle that client, not every request the
// proxy relays. Without the header the proxy itself is the client.
func WithProxies(isProxy func(host string) bool) Option {
	return func(a *Authenticator) { a.isProxy = isProxy }
}

// clientHost is the host a request's failures count against (and its
// nonces are bound to): its source, or behind a proxy the client's
// address as the proxy tells it.
func (a *Authenticator) clientHost(req *sip.Request) string {
	host := sourcekey.Host(req.Source())
	if a.isProxy == nil || !a.isProxy(host) {
		return host
	}
	if h := req.GetHeader(ClientHeader); h != nil {
		if ip, err := netip.ParseAddr(strings.TrimSpace(h.Value())); err == nil {
			return ip.Unmap().String()
		}
	}
	return host
}

// NewAuthenticator wires the pieces of digest authentication together.
func NewAuthenticator(users Users, v *auth.Verifier, g *auth.Guard, resp Responder, log *slog.Logger, opts ...Option) *Authenticator {
	a := &Authenticator{users: users, verifier: v, guard: g, resp: resp, log: log}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Realm is the digest realm.
func (a *Authenticator) Realm() string { return a.verifier.Realm() }

// unknownHA1 stands for the HA1 of a user that does not exist: the same
// work and the same answers as a wrong password.
const unknownHA1 = "00000000000000000000000000000000"

// Authenticate returns the extension that signed req. When it returns false
// it has already answered req: 401 (or 407 when proxy is set) with fresh
// challenges when there are no or stale credentials (or credentials for a
// nonce not sent to this source), 403 when they are wrong or name an
// unknown user (the same answer for both), 503 when the source is
// throttled and 403 when it is banned. Only wrong answers to a challenge
// sent to this source count as failures in the guard.
func (a *Authenticator) Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.User, bool) {
	host := a.clientHost(req)
	if res := a.refusal(req, host); res != nil {
		a.resp.Respond(tx, res)
		return store.User{}, false
	}
	creds, found := a.credentials(req, proxy)
	if !found {
		a.challenge(req, tx, proxy, false)
		return store.User{}, false
	}
	u, ha1s, expiry, err := a.lookup(ctx, creds)
	if err != nil {
		a.log.Error("user lookup failed", "user", creds.Username, "error", err)
		a.reply(req, tx, 500, "Server Internal Error")
		return store.User{}, false
	}
	r := auth.Request{Method: string(req.Method), Source: host, User: req.Recipient.User, Host: req.Recipient.Host}
	err = a.verifier.Verify(r, creds, ha1s...)
	if u.Ext == "" && (err == nil || errors.Is(err, auth.ErrURI)) {
		err = auth.ErrBadResponse // cannot happen with unknownHA1; never let it through
	}
	if err == nil && !expiry.IsZero() && a.ephemeral.Expired(expiry) {
		err = fmt.Errorf("%w at %s", auth.ErrExpired, expiry.UTC().Format(time.RFC3339))
	}
	if !a.conclude(req, tx, proxy, creds, err) {
		return store.User{}, false
	}
	return u, true
}

// refusal is the answer to a request from a banned (403) or throttled
// (503) source, or nil.
func (a *Authenticator) refusal(req *sip.Request, host string) *sip.Response {
	switch a.guard.Check(host) {
	case auth.Ban:
		return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	case auth.Throttle:
		res := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "5"))
		return res
	}
	return nil
}

// Challenge is what Authenticate answers a request that carries no
// credentials header at all (Authorization, or Proxy-Authorization when
// proxy is set): the 401/407 with fresh challenges, or 403/503 for a
// banned/throttled source; nil when it carries one (Authenticate checks
// it). sipserver's read filter sends it without a transaction (issue 20:
// the first REGISTER of a registration and the first INVITE of a call then
// cost no second parse, no transaction and no goroutine).
func (a *Authenticator) Challenge(req *sip.Request, proxy bool) *sip.Response {
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	if sipheader.Has(req, name) {
		return nil
	}
	host := a.clientHost(req)
	if res := a.refusal(req, host); res != nil {
		return res
	}
	return a.challengeResponse(req, host, proxy, false)
}

// credentials returns the first parsable credentials for our realm.
func (a *Authenticator) credentials(req *sip.Request, proxy bool) (auth.Credentials, bool) {
	hdrName := "Authorization"
	if proxy {
		hdrName = "Proxy-Authorization"
	}
	for _, h := range sipheader.All(req, hdrName) {
		c, err := auth.ParseCredentials(h.Value())
		if err != nil {
			a.log.Debug("ignoring credentials", "source", req.Source(), "error", err)
			continue
		}
		if c.Realm == a.verifier.Realm() {
			return c, true
		}
	}
	return auth.Credentials{}, false
}

// lookup finds the user the credentials name and the HA1s they may be
// checked against: the stored one for the algorithm, or, for an ephemeral
// username, one per accepted secret with its expiry. An unknown user is no
// error: it comes back empty, to be checked against unknownHA1.
func (a *Authenticator) lookup(ctx context.Context, c auth.Credentials) (store.User, []string, time.Time, error) {
	ext, expiry, eph := a.ephemeral.Parse(c.Username)
	if !eph {
		ext, expiry = c.Username, time.Time{}
	}
	u, err := a.users.User(ctx, ext)
	switch {
	case errors.Is(err, store.ErrNotFound) && eph:
		// The work of a known extension's ephemeral check (one HMAC and
		// one response per secret), so that time does not tell them apart.
		ha1s, _ := a.ephemeral.HA1s(c.Algorithm, c.Username, a.verifier.Realm())
		for i := range ha1s {
			ha1s[i] = unknownHA1
		}
		if len(ha1s) == 0 {
			ha1s = []string{unknownHA1}
		}
		return store.User{}, ha1s, time.Time{}, nil
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, []string{unknownHA1}, time.Time{}, nil
	case err != nil:
		return store.User{}, nil, time.Time{}, fmt.Errorf("authenticate %q: %w", ext, err)
	case eph:
		ha1s, err := a.ephemeral.HA1s(c.Algorithm, c.Username, a.verifier.Realm())
		if err != nil {
			return store.User{}, []string{unknownHA1}, time.Time{}, nil // unsupported algorithm: Verify says so
		}
		return u, ha1s, expiry, nil
	}
	if u.Realm != a.verifier.Realm() {
		a.log.Warn("user's digest was computed for another realm: reset the password", "ext", u.Ext, "user_realm", u.Realm, "realm", a.verifier.Realm())
	}
	if strings.EqualFold(c.Algorithm, auth.SHA256) {
		return u, []string{u.HA1SHA256}, time.Time{}, nil
	}
	return u, []string{u.HA1MD5}, time.Time{}, nil
}

// conclude answers a request whose credentials were checked with err, and
// tells whether it is authenticated.
func (a *Authenticator) conclude(req *sip.Request, tx sip.ServerTransaction, proxy bool, creds auth.Credentials, err error) bool {
	host := a.clientHost(req)
	switch {
	case err == nil:
		a.guard.Succeed(host)
		return true
	case errors.Is(err, auth.ErrStale), errors.Is(err, auth.ErrReplay):
		a.log.Debug("asking for fresh credentials", "source", req.Source(), "error", err)
		a.challenge(req, tx, proxy, true)
	case errors.Is(err, auth.ErrExpired):
		a.log.Warn("ephemeral credentials expired: the web app must mint new ones", "method", req.Method, "user", creds.Username, "source", req.Source(), "error", err)
		a.reply(req, tx, 403, "Forbidden")
	case errors.Is(err, auth.ErrBadResponse), errors.Is(err, auth.ErrURI):
		a.guard.Fail(host)
		a.log.Info("authentication failed", "method", req.Method, "user", creds.Username, "source", req.Source(), "error", err)
		a.reply(req, tx, 403, "Forbidden")
	default:
		// Credentials we cannot check (other algorithm, qop): ask again.
		a.log.Debug("credentials not usable", "source", req.Source(), "error", err)
		a.challenge(req, tx, proxy, false)
	}
	return false
}

func (a *Authenticator) challenge(req *sip.Request, tx sip.ServerTransaction, proxy, stale bool) {
	a.resp.Respond(tx, a.challengeResponse(req, a.clientHost(req), proxy, stale))
}

// challengeResponse is a 401 (407 when proxy is set) with fresh challenges
// for the source host.
func (a *Authenticator) challengeResponse(req *sip.Request, host string, proxy, stale bool) *sip.Response {
	code, reason, name := 401, "Unauthorized", "WWW-Authenticate"
	if proxy {
		code, reason, name = 407, "Proxy Authentication Required", "Proxy-Authenticate"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, c := range a.verifier.Challenges(host, stale) {
		res.AppendHeader(sip.NewHeader(name, c))
	}
	return res
}

func (a *Authenticator) reply(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...string) {
	reply(a.resp, req, tx, code, reason, hdrs...)
}

// reply answers req with code and header name/value pairs.
func reply(resp Responder, req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for i := 0; i+1 < len(hdrs); i += 2 {
		res.AppendHeader(sip.NewHeader(hdrs[i], hdrs[i+1]))
	}
	resp.Respond(tx, res)
}
