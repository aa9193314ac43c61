package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
)

// RFC test vectors: RFC 2617 §3.5 (MD5) and RFC 7616 §3.9.1 (MD5, SHA-256).
func TestResponseVectors(t *testing.T) {
	tests := []struct {
		name, alg, user, realm, pass, nonce, cnonce, want string
	}{
		{"rfc2617", MD5, "Mufasa", "testrealm@host.com", "Circle Of Life",
			"dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b", "6629fae49393a05397450978507c4ef1"},
		{"rfc7616-md5", MD5, "Mufasa", "http-auth@example.org", "Circle of Life",
			"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			"8ca523f5e9506fed4657c9700eebdbec"},
		{"rfc7616-sha256", SHA256, "Mufasa", "http-auth@example.org", "Circle of Life",
			"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
			"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ha1, err := HA1(tt.alg, tt.user, tt.realm, tt.pass)
			if err != nil {
				t.Fatal(err)
			}
			c := Credentials{Username: tt.user, Realm: tt.realm, Nonce: tt.nonce, URI: "/dir/index.html",
				Algorithm: tt.alg, QOP: "auth", NC: 1, NCText: "00000001", Cnonce: tt.cnonce}
			got, err := Response(c, "GET", ha1)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("response = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHA1RejectsUnknownAlgorithm(t *testing.T) {
	if _, err := HA1("MD5-sess", "a", "b", "c"); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("err = %v, want ErrAlgorithm", err)
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(Credentials) bool
	}{
		{"full", `Digest username="1001", realm="softswitch", nonce="abc", uri="sip:127.0.0.1:5060", response="ABCDEF", algorithm=SHA-256, cnonce="x y", qop=auth, nc=0000000a`,
			false, func(c Credentials) bool {
				return c.Username == "1001" && c.Response == "abcdef" && c.Algorithm == "SHA-256" && c.NC == 10 && c.NCText == "0000000a" && c.Cnonce == "x y"
			}},
		{"default md5 no qop", `digest username="a",realm="r",nonce="n",uri="sip:x",response="00"`,
			false, func(c Credentials) bool { return c.Algorithm == MD5 && c.QOP == "" }},
		{"escaped quote", `Digest username="a\"b", realm="r", nonce="n", uri="sip:x", response="00"`,
			false, func(c Credentials) bool { return c.Username == `a"b` }},
		{"not digest", `Basic YWxhZGRpbjpvcGVuc2VzYW1l`, true, nil},
		{"missing response", `Digest username="a", realm="r", nonce="n", uri="sip:x"`, true, nil},
		{"unterminated", `Digest username="a, realm="r"`, true, nil},
		{"duplicate", `Digest username="a", username="b", nonce="n", uri="sip:x", response="00"`, true, nil},
		{"bad nc", `Digest username="a", nonce="n", uri="sip:x", response="00", qop=auth, cnonce="c", nc=zz`, true, nil},
		{"qop without nc", `Digest username="a", nonce="n", uri="sip:x", response="00", qop=auth`, true, nil},
		{"garbage", "Digest \x00\x01=\xff", true, nil},
		{"empty", ``, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCredentials(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
			if tt.check != nil && !tt.check(c) {
				t.Fatalf("parsed %+v", c)
			}
		})
	}
}

// clientCredentials answers challenge with an independent client
// implementation (icholy/digest, the one sipgo uses).
func clientCredentials(t *testing.T, challenge, method, uri, user, pass string, count int) Credentials {
	t.Helper()
	chal, err := icholy.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := icholy.Digest(chal, icholy.Options{Method: method, URI: uri, Username: user, Password: pass, Count: count})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCredentials(cred.String())
	if err != nil {
		t.Fatalf("parse %q: %v", cred.String(), err)
	}
	return c
}

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func newTestVerifier(t *testing.T) (*Verifier, *fakeClock) {
	t.Helper()
	v, err := NewVerifier(Config{Realm: "softswitch", NonceTTL: time.Minute, Algorithms: []string{MD5, SHA256}})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	v.now = clk.now
	return v, clk
}

// testSource is the address the test clients send from.
const testSource = "192.0.2.1"

// register is a REGISTER to sip:127.0.0.1 from testSource.
var register = Request{Method: "REGISTER", Source: testSource, Host: "127.0.0.1"}

func TestVerify(t *testing.T) {
	for i, alg := range []string{MD5, SHA256} {
		t.Run(alg, func(t *testing.T) {
			v, clk := newTestVerifier(t)
			chals := v.Challenges(testSource, false)
			if len(chals) != 2 {
				t.Fatalf("challenges = %v", chals)
			}
			ha1, _ := HA1(alg, "1001", "softswitch", "s3cret")
			uri := "sip:127.0.0.1:5060"

			good := clientCredentials(t, chals[i], "REGISTER", uri, "1001", "s3cret", 1)
			if good.Algorithm != alg {
				t.Fatalf("client chose %s", good.Algorithm)
			}
			if err := v.Verify(register, good, ha1); err != nil {
				t.Fatalf("good credentials: %v", err)
			}
			if err := v.Verify(register, good, ha1); !errors.Is(err, ErrReplay) {
				t.Fatalf("replayed nc: %v, want ErrReplay", err)
			}
			next := clientCredentials(t, chals[i], "REGISTER", uri, "1001", "s3cret", 2)
			if err := v.Verify(register, next, ha1); err != nil {
				t.Fatalf("nc=2: %v", err)
			}
			wrong := clientCredentials(t, chals[i], "REGISTER", uri, "1001", "guess", 3)
			if err := v.Verify(register, wrong, ha1); !errors.Is(err, ErrBadResponse) {
				t.Fatalf("wrong password: %v, want ErrBadResponse", err)
			}
			method := clientCredentials(t, chals[i], "INVITE", uri, "1001", "s3cret", 4)
			if err := v.Verify(register, method, ha1); !errors.Is(err, ErrBadResponse) {
				t.Fatalf("other method: %v, want ErrBadResponse", err)
			}

			clk.t = clk.t.Add(2 * time.Minute)
			late := clientCredentials(t, chals[i], "REGISTER", uri, "1001", "s3cret", 5)
			if err := v.Verify(register, late, ha1); !errors.Is(err, ErrStale) {
				t.Fatalf("expired nonce: %v, want ErrStale", err)
			}
			lateWrong := clientCredentials(t, chals[i], "REGISTER", uri, "1001", "guess", 6)
			if err := v.Verify(register, lateWrong, ha1); !errors.Is(err, ErrBadResponse) {
				t.Fatalf("expired nonce, wrong password: %v, want ErrBadResponse (stale only for the right password)", err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	v, _ := newTestVerifier(t)
	other, _ := newTestVerifier(t) // a different key: its nonces are not ours
	ha1, _ := HA1(MD5, "1001", "softswitch", "pw")
	uri := "sip:127.0.0.1"
	tests := []struct {
		name  string
		creds func() Credentials
		want  error
	}{
		{"foreign nonce, right password", func() Credentials {
			return clientCredentials(t, other.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "pw", 1)
		}, ErrStale},
		{"foreign nonce, wrong password", func() Credentials {
			return clientCredentials(t, other.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "guess", 1)
		}, ErrStale},
		{"nonce sent to another source, right password", func() Credentials {
			return clientCredentials(t, v.Challenges("192.0.2.2", false)[0], "REGISTER", uri, "1001", "pw", 1)
		}, ErrStale},
		{"nonce sent to another source, wrong password", func() Credentials {
			return clientCredentials(t, v.Challenges("192.0.2.2", false)[0], "REGISTER", uri, "1001", "guess", 1)
		}, ErrStale},
		{"uri of another destination", func() Credentials {
			return clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", "sip:07010002000@127.0.0.1", "1001", "pw", 1)
		}, ErrURI},
		{"forged nonce", func() Credentials {
			c := clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "pw", 1)
			c.Nonce = "AAAA" + c.Nonce[4:]
			c.Response, _ = Response(c, "REGISTER", ha1)
			return c
		}, ErrStale},
		{"garbage nonce", func() Credentials {
			c := clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "pw", 1)
			c.Nonce = "not base64 at all!"
			c.Response, _ = Response(c, "REGISTER", ha1)
			return c
		}, ErrStale},
		{"wrong realm", func() Credentials {
			c := clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "pw", 1)
			c.Realm = "elsewhere"
			return c
		}, ErrRealm},
		{"unknown algorithm", func() Credentials {
			c := clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "pw", 1)
			c.Algorithm = "MD5-sess"
			return c
		}, ErrAlgorithm},
		{"auth-int", func() Credentials {
			c := clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", uri, "1001", "pw", 1)
			c.QOP = "auth-int"
			return c
		}, ErrQOP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.Verify(register, tt.creds(), ha1); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyNoQOPSingleUse(t *testing.T) {
	v, _ := newTestVerifier(t)
	ha1, _ := HA1(MD5, "1001", "softswitch", "pw")
	chal, _ := icholy.ParseChallenge(v.Challenges(testSource, false)[0])
	c := Credentials{Username: "1001", Realm: "softswitch", Nonce: chal.Nonce, URI: "sip:127.0.0.1", Algorithm: MD5}
	c.Response, _ = Response(c, "REGISTER", ha1)
	if err := v.Verify(register, c, ha1); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := v.Verify(register, c, ha1); !errors.Is(err, ErrReplay) {
		t.Fatalf("second use: %v, want ErrReplay", err)
	}
}

func TestChallengesStaleAndOrder(t *testing.T) {
	v, _ := newTestVerifier(t)
	chals := v.Challenges(testSource, true)
	for i, want := range []string{MD5, SHA256} {
		c, err := icholy.ParseChallenge(chals[i])
		if err != nil {
			t.Fatal(err)
		}
		if c.Algorithm != want || !c.Stale || c.Realm != "softswitch" || !c.SupportsQOP("auth") {
			t.Fatalf("challenge %d = %+v", i, c)
		}
	}
	if d, err := NewVerifier(Config{}); err != nil || len(d.Challenges(testSource, false)) != 1 || !strings.Contains(d.Challenges(testSource, false)[0], "algorithm=MD5") {
		t.Fatalf("default challenges: %v %v", d.Challenges(testSource, false), err)
	}
	if _, err := NewVerifier(Config{Algorithms: []string{"SHA-512-256"}}); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("unsupported algorithm accepted: %v", err)
	}
}
