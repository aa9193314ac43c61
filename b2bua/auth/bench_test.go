package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

// The digest work of one registration (issue 20): the 401's challenge,
// then parsing and checking the answer.
func BenchmarkDigest(b *testing.B) {
	v, err := NewVerifier(Config{Realm: "softswitch"})
	if err != nil {
		b.Fatal(err)
	}
	ha1, _ := HA1(MD5, "1001", "softswitch", "pw")
	b.Run("challenge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.Challenges("127.0.0.1", false)
		}
	})
	nonce := v.nonce("127.0.0.1")
	c := Credentials{Username: "1001", Realm: "softswitch", Nonce: nonce, URI: "sip:127.0.0.1:5060", Algorithm: MD5,
		QOP: "auth", NC: 1, NCText: "00000001", Cnonce: "0a4f113b"}
	c.Response, _ = Response(c, "REGISTER", ha1)
	hdr := `Digest username="1001", realm="softswitch", nonce="` + nonce + `", uri="sip:127.0.0.1:5060", response="` + c.Response +
		`", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001`
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseCredentials(hdr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("response", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = Response(c, "REGISTER", ha1)
		}
	})
	b.Run("issued", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := v.issued(nonce, "127.0.0.1"); !ok {
				b.Fatal("not issued")
			}
		}
	})
}

// The nonce's text length is what base64 makes of it, and a challenge and
// a nonce check allocate only the challenge's strings (issue 20).
func TestNonceCosts(t *testing.T) {
	if nonceTextLen != base64.RawURLEncoding.EncodedLen(nonceLen) {
		t.Fatalf("nonceTextLen %d, base64 says %d", nonceTextLen, base64.RawURLEncoding.EncodedLen(nonceLen))
	}
	v, err := NewVerifier(Config{Realm: "softswitch", Algorithms: []string{SHA256, MD5}})
	if err != nil {
		t.Fatal(err)
	}
	ch := v.Challenges("192.0.2.1", true)
	if len(ch) != 2 || !strings.HasPrefix(ch[0], `Digest realm="softswitch", nonce="`) ||
		!strings.HasSuffix(ch[0], `", algorithm=SHA-256, qop="auth", stale=true`) || !strings.HasSuffix(ch[1], `", algorithm=MD5, qop="auth", stale=true`) {
		t.Fatalf("challenges %q", ch)
	}
	nonce := v.nonce("192.0.2.1")
	if _, ok := v.issued(nonce, "192.0.2.1"); !ok {
		t.Fatal("own nonce not recognised")
	}
	if _, ok := v.issued(nonce, "192.0.2.2"); ok {
		t.Fatal("nonce accepted from another source")
	}
	if raceEnabled {
		return // sync.Pool drops items under the race detector; the checks above still hold
	}
	if n := testing.AllocsPerRun(100, func() { v.issued(nonce, "192.0.2.1") }); n != 0 {
		t.Errorf("checking a nonce allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { v.Challenges("192.0.2.1", false) }); n > 3 {
		t.Errorf("two challenges allocate %v times, want the slice and two strings", n)
	}
}
