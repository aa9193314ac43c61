package registrar

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	icholy "github.com/icholy/digest"

	"github.com/softswitch/softswitch/b2bua/auth"
	"github.com/softswitch/softswitch/b2bua/store"
)

type fakeUsers map[string]store.User

func (f fakeUsers) User(_ context.Context, ext string) (store.User, error) {
	if u, ok := f[ext]; ok {
		return u, nil
	}
	return store.User{}, store.ErrNotFound
}

type recorder struct{ last *sip.Response }

func (r *recorder) Respond(_ sip.ServerTransaction, res *sip.Response) { r.last = res }

type authFixture struct {
	t    *testing.T
	a    *Authenticator
	resp *recorder
	logs *bytes.Buffer
}

func newAuthFixture(t *testing.T, g auth.GuardConfig, eph auth.EphemeralConfig) *authFixture {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{Realm: "softswitch"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := auth.NewEphemeral(eph)
	if err != nil {
		t.Fatal(err)
	}
	ha1, _ := auth.HA1(auth.MD5, "1001", "softswitch", "pw")
	users := fakeUsers{"1001": {Ext: "1001", Realm: "softswitch", HA1MD5: ha1}, "1002": {Ext: "1002", Realm: "softswitch"}}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	f := &authFixture{t: t, resp: &recorder{}, logs: logs}
	f.a = NewAuthenticator(users, v, auth.NewGuard(g, log), f.resp, log, WithEphemeral(e))
	return f
}

// request builds a REGISTER (to sip:h) or an INVITE (to sip:DEST@h) from
// user, received from source, with an optional credentials header.
func request(t *testing.T, method, dest, user, source, creds string) *sip.Request {
	t.Helper()
	ruri := "sip:h"
	if dest != "" {
		ruri = "sip:" + dest + "@h"
	}
	hdr := "Authorization"
	if method == "INVITE" {
		hdr = "Proxy-Authorization"
	}
	msg := fmt.Sprintf("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d\r\nFrom: <sip:%s@h>;tag=1\r\nTo: <sip:%s@h>\r\nCall-ID: c\r\nCSeq: 1 %s\r\n",
		method, ruri, source, time.Now().UnixNano(), user, user, method)
	if creds != "" {
		msg += hdr + ": " + creds + "\r\n"
	}
	m, err := sip.ParseMessage([]byte(msg + "Content-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource(source)
	req.SetTransport("UDP")
	return req
}

// send authenticates req and returns whether it passed and the answer.
func (f *authFixture) send(req *sip.Request) (bool, *sip.Response) {
	f.resp.last = nil
	_, ok := f.a.Authenticate(context.Background(), req, nil, req.Method == sip.INVITE)
	return ok, f.resp.last
}

// answer computes credentials for the challenge in res.
func (f *authFixture) answer(res *sip.Response, method, uri, user, pass string) string {
	f.t.Helper()
	h := res.GetHeader("WWW-Authenticate")
	if h == nil {
		h = res.GetHeader("Proxy-Authenticate")
	}
	if h == nil {
		f.t.Fatalf("no challenge in %d", res.StatusCode)
	}
	chal, err := icholy.ParseChallenge(h.Value())
	if err != nil {
		f.t.Fatal(err)
	}
	cred, err := icholy.Digest(chal, icholy.Options{Method: method, URI: uri, Username: user, Password: pass, Count: 1})
	if err != nil {
		f.t.Fatal(err)
	}
	return cred.String()
}

// login runs a challenge and an answer; it returns the final verdict.
func (f *authFixture) login(method, dest, user, authUser, pass, uri, source string) (bool, *sip.Response) {
	_, chal := f.send(request(f.t, method, dest, user, source, ""))
	return f.send(request(f.t, method, dest, user, source, f.answer(chal, method, uri, authUser, pass)))
}

// An INVITE naming an extension and one naming nobody get the same
// answers: a challenge, then 403 for a wrong password; and INVITE and
// REGISTER failures count in one guard (issue 12, item 3).
func TestUnknownUserAnsweredLikeAnExtension(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{ThrottleAfter: 4, BanAfter: 4}, auth.EphemeralConfig{})
	src := "203.0.113.7:5060"
	for _, user := range []string{"1001", "1999"} {
		ok, res := f.send(request(t, "INVITE", "1002", user, src, ""))
		if ok || res.StatusCode != 407 || res.GetHeader("Proxy-Authenticate") == nil {
			t.Fatalf("%s without credentials: %v %v", user, ok, res)
		}
		ok, res = f.login("INVITE", "1002", user, user, "guess", "sip:1002@h", src)
		if ok || res.StatusCode != 403 {
			t.Fatalf("%s with a wrong password: %v %d, want 403", user, ok, res.StatusCode)
		}
	}
	if ok, res := f.login("REGISTER", "", "1001", "1001", "guess", "sip:h", src); ok || res.StatusCode != 403 {
		t.Fatalf("REGISTER with a wrong password: %v %d", ok, res.StatusCode)
	}
	// Three failures so far, INVITE and REGISTER alike: the fourth bans.
	if ok, res := f.login("REGISTER", "", "1001", "1001", "guess", "sip:h", src); ok || res.StatusCode != 403 {
		t.Fatalf("fourth failure: %v %d", ok, res.StatusCode)
	}
	if ok, res := f.send(request(t, "REGISTER", "", "1001", src, "")); ok || res.StatusCode != 403 {
		t.Fatalf("after four failures: %v %d, want 403 (banned)", ok, res.StatusCode)
	}
	if !strings.Contains(f.logs.String(), "auth source banned") {
		t.Fatalf("no ban logged:\n%s", f.logs)
	}
}

// Invented credentials from a (spoofed) source that never received our
// challenge neither throttle nor ban it; answers to a challenge sent to it
// do (issue 12, item 4).
func TestBlindFailuresDoNotLockOut(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{ThrottleAfter: 20, BanAfter: 20}, auth.EphemeralConfig{})
	office, attacker := "198.51.100.10:5060", "203.0.113.66:5060"
	// A nonce the attacker got for itself, and an invented one.
	_, chal := f.send(request(t, "REGISTER", "", "1001", attacker, ""))
	stolen := f.answer(chal, "REGISTER", "sip:h", "1001", "guess")
	invented := `Digest username="1001", realm="softswitch", nonce="bm90IG91cnM", uri="sip:h", response="00112233445566778899aabbccddeeff", algorithm=MD5`
	for i := 0; i < 25; i++ {
		creds := invented
		if i%2 == 1 {
			creds = strings.Replace(stolen, "guess", "x", 1)
		}
		ok, res := f.send(request(t, "REGISTER", "", "1001", office, creds))
		if ok || res.StatusCode != 401 {
			t.Fatalf("spoofed REGISTER %d answered %d, want a 401 challenge", i, res.StatusCode)
		}
	}
	if ok, res := f.login("REGISTER", "", "1001", "1001", "pw", "sip:h", office); !ok {
		t.Fatalf("the office is locked out: %d\n%s", res.StatusCode, f.logs)
	}
	for i := 0; i < 20; i++ {
		f.login("REGISTER", "", "1001", "1001", "guess-"+strconv.Itoa(i), "sip:h", attacker)
	}
	if ok, res := f.send(request(t, "REGISTER", "", "1001", attacker, "")); ok || res.StatusCode != 403 {
		t.Fatalf("after 20 wrong answers to our challenges: %v %d, want 403 (banned)", ok, res.StatusCode)
	}
}

// Credentials made for one destination do not call another; the forms
// real clients use pass (issue 12, item 5).
func TestCredentialsBoundToRequestURI(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{}, auth.EphemeralConfig{})
	src := "192.0.2.5:5060"
	for _, tt := range []struct {
		uri string
		ok  bool
	}{
		{"sip:07010002000@h", false},
		{"sip:0044207946000@elsewhere", false},
		{"sip:0044207946000@h", true},
		{"sip:h:5060", true},
	} {
		ok, res := f.login("INVITE", "0044207946000", "1001", "1001", "pw", tt.uri, src)
		if ok != tt.ok {
			t.Errorf("uri %s: ok=%v (%d), want %v", tt.uri, ok, res.StatusCode, tt.ok)
		}
	}
}

// Ephemeral credentials: good until their expiry for an existing
// extension, with either secret during a rotation; expired ones are
// refused and logged.
func TestEphemeralCredentials(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{}, auth.EphemeralConfig{Secret: "new", Secrets: []string{"old"}})
	src := "192.0.2.9:5060"
	later := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	tests := []struct {
		name, to, username, secret string
		ok                         bool
	}{
		{"current secret", "1002", later + ":1002", "new", true},
		{"previous secret", "1002", later + ":1002", "old", true},
		{"retired secret", "1002", later + ":1002", "older", false},
		{"expired", "1002", past + ":1002", "new", false},
		{"unknown extension", "1999", later + ":1999", "new", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, res := f.login("REGISTER", "", tt.to, tt.username, auth.Password(tt.secret, tt.username), "sip:h", src)
			if ok != tt.ok || !ok && res.StatusCode != 403 {
				t.Fatalf("ok=%v (%v), want %v", ok, res, tt.ok)
			}
		})
	}
	if !strings.Contains(f.logs.String(), "ephemeral credentials expired") || !strings.Contains(f.logs.String(), "user="+past+":1002") {
		t.Fatalf("no clear log line for the expired credentials:\n%s", f.logs)
	}
}

// An ephemeral username naming no extension costs the work of one naming
// an extension: an HA1 per accepted secret, all of them unusable.
func TestEphemeralUnknownExtensionSameWork(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{}, auth.EphemeralConfig{Secret: "new", Secrets: []string{"old"}})
	later := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	_, known, _, err := f.a.lookup(context.Background(), auth.Credentials{Username: later + ":1002", Algorithm: auth.MD5})
	if err != nil {
		t.Fatal(err)
	}
	u, unknown, _, err := f.a.lookup(context.Background(), auth.Credentials{Username: later + ":1999", Algorithm: auth.MD5})
	if err != nil || u.Ext != "" {
		t.Fatalf("unknown extension: %+v, %v", u, err)
	}
	if len(known) != 2 || len(unknown) != len(known) {
		t.Fatalf("%d HA1s for a known extension, %d for an unknown one: want 2 and 2", len(known), len(unknown))
	}
	for _, h := range unknown {
		if h != unknownHA1 {
			t.Fatalf("an unknown extension got a usable HA1 %q", h)
		}
	}
}

// Challenge answers a request without credentials as Authenticate would
// (401/407 with a challenge, 403 once the source is banned) and leaves one
// with credentials to Authenticate (issue 20).
func TestChallengeWithoutCredentials(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{ThrottleAfter: 1, BanAfter: 1}, auth.EphemeralConfig{})
	src := "203.0.113.9:5060"
	res := f.a.Challenge(request(t, "REGISTER", "", "1001", src, ""), false)
	if res == nil || res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil {
		t.Fatalf("REGISTER without credentials: %v", res)
	}
	// Its challenge is a real one: answered right, the REGISTER passes.
	if ok, _ := f.send(request(t, "REGISTER", "", "1001", src, f.answer(res, "REGISTER", "sip:h", "1001", "pw"))); !ok {
		t.Fatal("the stateless challenge's nonce was not accepted")
	}
	if res := f.a.Challenge(request(t, "REGISTER", "", "1001", src, `Digest username="1001"`), false); res != nil {
		t.Fatalf("REGISTER with credentials answered: %d", res.StatusCode)
	}
	if res := f.a.Challenge(request(t, "INVITE", "1002", "1001", src, ""), true); res == nil || res.StatusCode != 407 ||
		res.GetHeader("Proxy-Authenticate") == nil {
		t.Fatalf("INVITE without credentials: %v, want 407", res)
	}
	if res := f.a.Challenge(request(t, "INVITE", "1002", "1001", src, `Digest username="1001"`), true); res != nil {
		t.Fatalf("INVITE with credentials answered: %d", res.StatusCode)
	}
	if ok, res := f.login("REGISTER", "", "1001", "1001", "guess", "sip:h", src); ok || res.StatusCode != 403 {
		t.Fatalf("wrong password: %v %d", ok, res.StatusCode)
	}
	if res := f.a.Challenge(request(t, "REGISTER", "", "1001", src, ""), false); res == nil || res.StatusCode != 403 {
		t.Fatalf("banned source: %v, want 403", res)
	}
}
