package registrar

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/auth"
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
	users    Users
	verifier *auth.Verifier
	guard    *auth.Guard
	resp     Responder
	log      *slog.Logger
}

// NewAuthenticator wires the pieces of digest authentication together.
func NewAuthenticator(users Users, v *auth.Verifier, g *auth.Guard, resp Responder, log *slog.Logger) *Authenticator {
	return &Authenticator{users: users, verifier: v, guard: g, resp: resp, log: log}
}

// Realm is the digest realm.
func (a *Authenticator) Realm() string { return a.verifier.Realm() }

// Authenticate returns the extension that signed req. When it returns false
// it has already answered req: 401 (or 407 when proxy is set) with fresh
// challenges when there are no or stale credentials, 403 when they are wrong
// or name an unknown user (the same answer for both), 503 when the source is
// throttled and 403 when it is banned.
func (a *Authenticator) Authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, proxy bool) (store.User, bool) {
	host := sourceHost(req.Source())
	switch a.guard.Check(host) {
	case auth.Ban:
		a.reply(req, tx, 403, "Forbidden")
		return store.User{}, false
	case auth.Throttle:
		a.reply(req, tx, 503, "Service Unavailable", "Retry-After", "5")
		return store.User{}, false
	}
	hdrName := "Authorization"
	if proxy {
		hdrName = "Proxy-Authorization"
	}
	var creds auth.Credentials
	found := false
	for _, h := range req.GetHeaders(hdrName) {
		c, err := auth.ParseCredentials(h.Value())
		if err != nil {
			a.log.Debug("ignoring credentials", "source", req.Source(), "error", err)
			continue
		}
		if c.Realm == a.verifier.Realm() {
			creds, found = c, true
			break
		}
	}
	if !found {
		a.challenge(req, tx, proxy, false)
		return store.User{}, false
	}
	u, err := a.users.User(ctx, creds.Username)
	var ha1 string
	switch {
	case err == nil:
		ha1 = u.HA1MD5
		if strings.EqualFold(creds.Algorithm, auth.SHA256) {
			ha1 = u.HA1SHA256
		}
		if u.Realm != a.verifier.Realm() {
			a.log.Warn("user's digest was computed for another realm: reset the password", "ext", u.Ext, "user_realm", u.Realm, "realm", a.verifier.Realm())
		}
		err = a.verifier.Verify(string(req.Method), creds, ha1)
	case errors.Is(err, store.ErrNotFound):
		// Same work and the same answer as a wrong password.
		_ = a.verifier.Verify(string(req.Method), creds, "00000000000000000000000000000000")
		err = auth.ErrBadResponse
	default:
		a.log.Error("user lookup failed", "ext", creds.Username, "error", err)
		a.reply(req, tx, 500, "Server Internal Error")
		return store.User{}, false
	}
	switch {
	case err == nil:
		a.guard.Succeed(host)
		return u, true
	case errors.Is(err, auth.ErrStale), errors.Is(err, auth.ErrReplay):
		a.challenge(req, tx, proxy, true)
	case errors.Is(err, auth.ErrBadResponse):
		a.guard.Fail(host)
		a.log.Info("authentication failed", "method", req.Method, "user", creds.Username, "source", req.Source())
		a.reply(req, tx, 403, "Forbidden")
	default:
		// Credentials we cannot check (other algorithm, qop): ask again.
		a.log.Debug("credentials not usable", "source", req.Source(), "error", err)
		a.challenge(req, tx, proxy, false)
	}
	return store.User{}, false
}

func (a *Authenticator) challenge(req *sip.Request, tx sip.ServerTransaction, proxy, stale bool) {
	code, reason, name := 401, "Unauthorized", "WWW-Authenticate"
	if proxy {
		code, reason, name = 407, "Proxy Authentication Required", "Proxy-Authenticate"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, c := range a.verifier.Challenges(stale) {
		res.AppendHeader(sip.NewHeader(name, c))
	}
	a.resp.Respond(tx, res)
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

func sourceHost(src string) string {
	host, _, err := net.SplitHostPort(src)
	if err != nil {
		return src
	}
	return host
}
