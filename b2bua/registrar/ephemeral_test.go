package registrar

import (
	"strconv"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/auth"
)

// TestCredentialsExpiry: the expiry of the ephemeral credentials a
// request carries; none for a password or no credentials.
func TestCredentialsExpiry(t *testing.T) {
	f := newAuthFixture(t, auth.GuardConfig{}, auth.EphemeralConfig{Secret: "new"})
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	user := strconv.FormatInt(exp.Unix(), 10) + ":1002"
	src := "192.0.2.9:5060"
	_, chal := f.send(request(t, "REGISTER", "", "1002", src, ""))
	eph := request(t, "REGISTER", "", "1002", src, f.answer(chal, "REGISTER", "sip:h", user, auth.Password("new", user)))
	if got := f.a.CredentialsExpiry(eph, false); !got.Equal(exp) {
		t.Errorf("ephemeral: %v, want %v", got, exp)
	}
	pw := request(t, "REGISTER", "", "1001", src, f.answer(chal, "REGISTER", "sip:h", "1001", "pw"))
	if got := f.a.CredentialsExpiry(pw, false); !got.IsZero() {
		t.Errorf("password: %v, want none", got)
	}
	if got := f.a.CredentialsExpiry(request(t, "REGISTER", "", "1001", src, ""), false); !got.IsZero() {
		t.Errorf("no credentials: %v, want none", got)
	}
	off := newAuthFixture(t, auth.GuardConfig{}, auth.EphemeralConfig{})
	if got := off.a.CredentialsExpiry(eph, false); !got.IsZero() {
		t.Errorf("ephemeral credentials off: %v, want none", got)
	}
}
