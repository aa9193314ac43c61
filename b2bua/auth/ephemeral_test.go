package auth

import (
	"errors"
	"testing"
	"time"
)

// Password follows the TURN REST API / auth_ephemeral scheme; vectors from
// `printf %s USERNAME | openssl dgst -sha1 -hmac SECRET -binary | base64`.
func TestEphemeralPassword(t *testing.T) {
	for _, tt := range []struct{ secret, user, want string }{
		{"north", "1893456000:1001", "NQa3ySGv73V8ACr1ndSrA6s7Wtk="},
		{"south", "1001:1893456000", "TdILwIOFI93EAV/zC61TEioVyVE="},
	} {
		if got := Password(tt.secret, tt.user); got != tt.want {
			t.Errorf("Password(%q, %q) = %s, want %s", tt.secret, tt.user, got, tt.want)
		}
	}
}

func TestEphemeralParse(t *testing.T) {
	ex, err := NewEphemeral(EphemeralConfig{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	ue, err := NewEphemeral(EphemeralConfig{Secret: "s", UsernameFormat: "user:expiry"})
	if err != nil {
		t.Fatal(err)
	}
	var off *Ephemeral
	tests := []struct {
		e        *Ephemeral
		username string
		user     string
		ok       bool
	}{
		{ex, "1893456000:1001", "1001", true},
		{ex, "soon:1001", "", false},
		{ue, "1001:1893456000", "1001", true},
		{ex, "1001", "", false},
		{ex, "-5:1001", "", false},
		{ex, "1893456000:", "", false},
		{off, "1893456000:1001", "", false},
	}
	for _, tt := range tests {
		user, exp, ok := tt.e.Parse(tt.username)
		if ok != tt.ok || user != tt.user || ok && !exp.Equal(time.Unix(1893456000, 0)) {
			t.Errorf("Parse(%q) = %q, %v, %v; want %q, %v", tt.username, user, exp, ok, tt.user, tt.ok)
		}
	}
}

func TestNewEphemeralConfig(t *testing.T) {
	for _, cfg := range []EphemeralConfig{{}, {UsernameFormat: "expiry:user"}, {Secrets: []string{""}}} {
		if e, err := NewEphemeral(cfg); e != nil || err != nil {
			t.Fatalf("%+v: %v, %v; want off", cfg, e, err)
		}
	}
	for _, cfg := range []EphemeralConfig{{Secret: "s", UsernameFormat: "user-expiry"}, {UsernameFormat: "expiry-user"}} {
		if _, err := NewEphemeral(cfg); !errors.Is(err, ErrEphemeralConfig) {
			t.Errorf("%+v: %v, want ErrEphemeralConfig", cfg, err)
		}
	}
}

// During a rotation credentials minted with either secret verify; one
// minted with a retired secret does not.
func TestEphemeralRotation(t *testing.T) {
	v, _ := newTestVerifier(t)
	e, err := NewEphemeral(EphemeralConfig{Secret: "new", Secrets: []string{"old"}})
	if err != nil {
		t.Fatal(err)
	}
	e.now = func() time.Time { return time.Unix(1893455000, 0) }
	username := "1893456000:1001"
	for i, secret := range []string{"new", "old", "retired"} {
		c := clientCredentials(t, v.Challenges(testSource, false)[0], "REGISTER", "sip:127.0.0.1", username, Password(secret, username), 1)
		ha1s, err := e.HA1s(c.Algorithm, username, "softswitch")
		if err != nil {
			t.Fatal(err)
		}
		err = v.Verify(register, c, ha1s...)
		if want := i < 2; (err == nil) != want {
			t.Errorf("secret %q: %v, want accepted=%v", secret, err, want)
		}
	}
	if _, exp, _ := e.Parse(username); e.Expired(exp) {
		t.Fatal("expired too early")
	}
	e.now = func() time.Time { return time.Unix(1893456000, 0) }
	if _, exp, _ := e.Parse(username); !e.Expired(exp) {
		t.Fatal("not expired at its expiry")
	}
}
