package auth

import (
	"errors"
	"strings"
	"testing"
)

// The digest uri must name the request: what real clients send passes, a
// uri made for another destination does not (issue 12, item 5).
func TestMatchURI(t *testing.T) {
	tests := []struct {
		name, uri, user, host string
		ok                    bool
	}{
		{"sipp: host and port, no user", "sip:127.0.0.1:5060", "1002", "127.0.0.1", true},
		{"baresip/JsSIP: the request-uri", "sip:1002@example.org", "1002", "example.org", true},
		{"with params", "sip:1002@example.org;transport=ws", "1002", "example.org", true},
		{"sips and port", "sips:1002@Example.org:5061", "1002", "example.org", true},
		{"REGISTER to the domain", "sip:example.org", "", "example.org", true},
		{"ipv6", "sip:1002@[2001:db8::1]:5060", "1002", "[2001:db8::1]", true},
		{"ipv6 unbracketed request host", "sip:[2001:db8::1]", "1002", "2001:db8::1", true},
		{"escaped user", "sip:%31002@h", "1002", "h", true},
		{"user with params", "sip:1002;npdi@h", "1002;npdi", "h", true},
		{"another destination", "sip:07010002000@127.0.0.1", "0044207946000", "127.0.0.1", false},
		{"another host", "sip:1002@evil.example", "1002", "example.org", false},
		{"tel uri", "tel:+15551234567", "+15551234567", "example.org", false},
		{"http uri", "/index.html", "1002", "example.org", false},
		{"empty host", "sip:1002@", "1002", "example.org", false},
		{"unclosed ipv6", "sip:[2001:db8::1", "", "2001:db8::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := matchURI(tt.uri, tt.user, tt.host)
			if (err == nil) != tt.ok {
				t.Fatalf("matchURI(%q, %q, %q) = %v, want ok=%v", tt.uri, tt.user, tt.host, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrURI) {
				t.Fatalf("err = %v, want ErrURI", err)
			}
		})
	}
}

// Credentials made for sip:07010002000@… are refused on an INVITE to an
// external number, and accepted on the INVITE they were made for.
func TestVerifyBindsURI(t *testing.T) {
	v, _ := newTestVerifier(t)
	ha1, _ := HA1(MD5, "1001", "softswitch", "pw")
	chal := v.Challenges(testSource, false)[0]
	c := clientCredentials(t, chal, "INVITE", "sip:07010002000@127.0.0.1:5060", "1001", "pw", 1)
	external := Request{Method: "INVITE", Source: testSource, User: "0044207946000", Host: "127.0.0.1"}
	if err := v.Verify(external, c, ha1); !errors.Is(err, ErrURI) {
		t.Fatalf("credentials for another destination: %v, want ErrURI", err)
	}
	test := Request{Method: "INVITE", Source: testSource, User: "07010002000", Host: "127.0.0.1"}
	if err := v.Verify(test, c, ha1); err != nil {
		t.Fatalf("credentials for this destination: %v", err)
	}
	// A REGISTER signed for another registrar's domain is refused; signed
	// for ours it registers.
	chal = v.Challenges(testSource, false)[0]
	reg := clientCredentials(t, chal, "REGISTER", "sip:other.example", "1001", "pw", 1)
	ours := Request{Method: "REGISTER", Source: testSource, Host: "pbx.example"}
	if err := v.Verify(ours, reg, ha1); !errors.Is(err, ErrURI) {
		t.Fatalf("REGISTER credentials for another domain: %v, want ErrURI", err)
	}
	reg = clientCredentials(t, chal, "REGISTER", "sip:pbx.example", "1001", "pw", 2)
	if err := v.Verify(ours, reg, ha1); err != nil {
		t.Fatalf("REGISTER credentials for our domain: %v", err)
	}
}

// FuzzMatchURI: any input is answered without a panic, with nil or
// ErrURI, and a uri written from a user and a host names them.
func FuzzMatchURI(f *testing.F) {
	f.Add("sip:1002@example.org:5060;transport=tcp", "1002", "example.org")
	f.Add("sips:[2001:db8::1]", "", "[2001:db8::1]")
	f.Add("sip:a;b?c@h?x", "a;b?c", "h")
	f.Fuzz(func(t *testing.T, uri, user, host string) {
		if err := matchURI(uri, user, host); err != nil && !errors.Is(err, ErrURI) {
			t.Fatalf("matchURI(%q): %v", uri, err)
		}
		if host == "" || strings.ContainsAny(host, "@:;?[]") || strings.ContainsAny(user, "@:%") {
			return
		}
		if err := matchURI("sip:"+user+"@"+host+":5060;lr", user, host); user != "" && err != nil {
			t.Fatalf("sip:%s@%s does not name itself: %v", user, host, err)
		}
	})
}
