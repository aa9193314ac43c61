package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	icholy "github.com/icholy/digest"
)

// FuzzParseCredentials parses arbitrary Authorization values: it must
// never panic, accept only complete credentials, and read back what a
// client's quoting of the same fields says.
func FuzzParseCredentials(f *testing.F) {
	f.Add(`Digest username="1001", realm="softswitch", nonce="abc", uri="sip:x", response="00", qop=auth, nc=00000001, cnonce="c"`)
	// baresip 1.0, sipp 3.6, JsSIP 3.13 and Linphone as they answer a challenge
	f.Add(`Digest username="1002",realm="softswitch",nonce="AAAAAGS4ZxR3c2Vk",uri="sip:192.0.2.1",response="6629fae49393a05397450978507c4ef1",algorithm=MD5,cnonce="1f2e3d4c",qop=auth,nc=00000001`)
	f.Add(`Digest username="1001",realm="softswitch",uri="sip:127.0.0.1:5060",nonce="AAAAAGS4ZxR3c2Vk",response="0b2c1f2e3d4c5b6a79880a1b2c3d4e5f",algorithm=MD5`)
	f.Add(`Digest algorithm=MD5, username="1001", realm="softswitch", nonce="AAAAAGS4ZxR3c2Vk", uri="sip:127.0.0.1", response="7dd5e4b1b0c8a2f1e3d4c5b6a7980a1b", qop=auth, cnonce="q0j3w7a1e9ch", nc=00000001`)
	f.Add(`Digest realm="softswitch", nonce="AAAAAGS4ZxR3c2Vk", algorithm=SHA-256, opaque="", username="1003",  uri="sip:192.0.2.1;transport=tls", response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", cnonce="7Q1dQ", nc=0000000a, qop=auth`)
	f.Add(`Digest username="a\"b", realm=r`)
	f.Add(`Digest ,,,=`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if c.Username == "" || c.Nonce == "" || c.Response == "" || c.URI == "" || c.QOP != "" && (c.Cnonce == "" || c.NC == 0) {
			t.Fatalf("accepted incomplete credentials %+v", c)
		}
		if !printable(c.Username, c.Realm, c.Nonce, c.URI, c.Cnonce, c.Opaque) {
			return
		}
		again, err := ParseCredentials(format(c))
		if err != nil || again != c {
			t.Fatalf("reformatted %q:\n%+v\n%+v, %v", format(c), c, again, err)
		}
	})
}

// FuzzVerify answers our challenges with an independent client
// (icholy/digest, the one sipgo uses) for arbitrary user names, passwords,
// URIs and methods: the header it writes must parse to the same fields and
// verify once with the right password, never twice with the same nonce
// count, and never with a wrong password.
func FuzzVerify(f *testing.F) {
	f.Add("1001", "secret", "sip:127.0.0.1:5060", "REGISTER", uint8(1), false)
	f.Add("1002", "p@ss w0rd", "sip:1003@192.0.2.1;transport=tls", "INVITE", uint8(3), true)
	f.Add(`we"ird\user`, "", "sips:[2001:db8::1]", "BYE", uint8(0), false)
	v, err := NewVerifier(Config{Realm: "softswitch", Algorithms: []string{MD5, SHA256}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, user, pass, uri, method string, count uint8, sha bool) {
		if user == "" || uri == "" || method == "" || !printable(user, uri, method) || strings.ContainsAny(method, " \t") {
			return
		}
		chals := v.Challenges("192.0.2.1", false)
		alg := MD5
		if sha {
			chals, alg = chals[1:], SHA256
		}
		chal, err := icholy.ParseChallenge(chals[0])
		if err != nil {
			t.Fatal(err)
		}
		cred, err := icholy.Digest(chal, icholy.Options{Method: method, URI: uri, Username: user, Password: pass, Count: int(count) + 1})
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCredentials(cred.String())
		if err != nil {
			t.Fatalf("parse %q: %v", cred.String(), err)
		}
		if c.Username != user || c.URI != uri || c.Realm != "softswitch" || c.Algorithm != alg || c.NC != uint32(count)+1 {
			t.Fatalf("parsed %+v from %q", c, cred.String())
		}
		r := Request{Method: method, Source: "192.0.2.1"}
		r.User, r.Host, _ = splitSIPURI(uri)
		if r.Host == "" {
			r.Host = "127.0.0.1"
		}
		wrong, _ := HA1(alg, user, "softswitch", pass+"x")
		if err := v.Verify(r, c, wrong); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("wrong password: %v", err)
		}
		ha1, _ := HA1(alg, user, "softswitch", pass)
		err = v.Verify(r, c, ha1)
		if _, _, sipURI := splitSIPURI(uri); !sipURI {
			if !errors.Is(err, ErrURI) {
				t.Fatalf("uri %q is no sip uri: %v, want ErrURI", uri, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("verify %q: %v", cred.String(), err)
		}
		if err := v.Verify(r, c, ha1); !errors.Is(err, ErrReplay) {
			t.Fatalf("replayed nc: %v", err)
		}
	})
}

// printable reports whether every string is printable text that a client
// quotes with backslash escapes only.
func printable(ss ...string) bool {
	for _, s := range ss {
		for _, r := range s {
			if !strconv.IsPrint(r) || r == '\uFFFD' {
				return false
			}
		}
	}
	return true
}

// format writes credentials with every value quoted, as RFC 7616
// allows a parser to accept.
func format(c Credentials) string {
	var b strings.Builder
	b.WriteString("Digest ")
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	for _, p := range [][2]string{{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce}, {"uri", c.URI},
		{"response", c.Response}, {"algorithm", c.Algorithm}, {"qop", c.QOP}, {"nc", c.NCText}, {"cnonce", c.Cnonce}, {"opaque", c.Opaque}} {
		if p[1] != "" {
			fmt.Fprintf(&b, `%s="%s", `, p[0], esc.Replace(p[1]))
		}
	}
	return strings.TrimSuffix(b.String(), ", ")
}

func FuzzChallengeRealm(f *testing.F) {
	f.Add(`Digest realm="carrier.test", nonce="406e49dc8b4051fc", algorithm=MD5, qop="auth"`)
	f.Add(`Digest realm=softswitch,nonce="n"`)
	f.Add(`Basic realm="x"`)
	f.Add(`Digest nonce="n"`)
	f.Fuzz(func(t *testing.T, s string) {
		realm, err := ChallengeRealm(s)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: error %v is not ErrMalformed", s, err)
		}
		if err != nil && realm != "" {
			t.Fatalf("%q: realm %q with an error", s, realm)
		}
	})
}
