package trunk

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

// A carrier's challenge in the configured realm is answered; one in
// another realm, or without credentials, is not.
func TestCheckChallenge(t *testing.T) {
	res := func(code int, header, chal string) *sip.Response {
		r := sip.NewResponse(code, "Unauthorized")
		r.AppendHeader(sip.NewHeader(header, chal))
		return r
	}
	carrier := `Digest realm="carrier.test", nonce="406e49dc", algorithm=MD5, qop="auth"`
	cases := []struct {
		name string
		cfg  Config
		res  *sip.Response
		ok   bool
	}{
		{"407 in the realm", Config{Password: "p", Realm: "carrier.test"}, res(407, "Proxy-Authenticate", carrier), true},
		{"401 in the realm", Config{Password: "p", Realm: "carrier.test"}, res(401, "WWW-Authenticate", carrier), true},
		{"any realm when none is configured", Config{Password: "p"}, res(407, "Proxy-Authenticate", carrier), true},
		{"another realm", Config{Password: "p", Realm: "other"}, res(407, "Proxy-Authenticate", carrier), false},
		{"407 with a WWW-Authenticate only", Config{Password: "p", Realm: "carrier.test"}, res(407, "WWW-Authenticate", carrier), false},
		{"no credentials", Config{Realm: "carrier.test"}, res(407, "Proxy-Authenticate", carrier), false},
	}
	for _, c := range cases {
		if err := c.cfg.CheckChallenge(c.res); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
