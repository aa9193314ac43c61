package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EphemeralConfig configures time-limited credentials minted by a web
// application (the TURN REST API scheme, Kamailio's auth_ephemeral): the
// username is "EXPIRY:USER" (or "USER:EXPIRY"), EXPIRY a Unix time in
// seconds, and the password base64(HMAC-SHA1(secret, username)).
type EphemeralConfig struct {
	// Secret is the shared secret new credentials are minted with.
	Secret string `yaml:"secret"`
	// Secrets are further secrets still accepted, for a rotation: add the
	// new one as Secret, keep the old one here until what it minted expires.
	Secrets []string `yaml:"secrets"`
	// UsernameFormat is "expiry:user" (the default) or "user:expiry".
	UsernameFormat string `yaml:"username_format"`
}

// Username formats.
const (
	ExpiryUser = "expiry:user"
	UserExpiry = "user:expiry"
)

// ErrEphemeralConfig reports an unusable ephemeral configuration.
var ErrEphemeralConfig = errors.New("auth: ephemeral credentials")

// Ephemeral checks ephemeral credentials. The zero of its config (no
// secret) disables it: NewEphemeral then returns nil, and a nil *Ephemeral
// recognises no username.
type Ephemeral struct {
	secrets   []string
	userFirst bool
	now       func() time.Time
}

// NewEphemeral checks cfg; it returns nil (off) when cfg has no secret.
func NewEphemeral(cfg EphemeralConfig) (*Ephemeral, error) {
	e := &Ephemeral{now: time.Now}
	switch strings.ToLower(cfg.UsernameFormat) {
	case "", ExpiryUser:
	case UserExpiry:
		e.userFirst = true
	default:
		return nil, fmt.Errorf("%w: username_format %q: want %q or %q", ErrEphemeralConfig, cfg.UsernameFormat, ExpiryUser, UserExpiry)
	}
	for _, s := range append([]string{cfg.Secret}, cfg.Secrets...) {
		if s != "" {
			e.secrets = append(e.secrets, s)
		}
	}
	if len(e.secrets) == 0 {
		return nil, nil
	}
	return e, nil
}

// Parse splits an ephemeral username into the extension and the expiry.
// ok is false when username is not in the configured form.
func (e *Ephemeral) Parse(username string) (user string, expiry time.Time, ok bool) {
	if e == nil {
		return "", time.Time{}, false
	}
	a, b, found := strings.Cut(username, ":")
	if !found {
		return "", time.Time{}, false
	}
	ts, user := a, b
	if e.userFirst {
		ts, user = b, a
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 || user == "" {
		return "", time.Time{}, false
	}
	return user, time.Unix(sec, 0), true
}

// Expired tells whether credentials expiring at expiry are no longer good.
func (e *Ephemeral) Expired(expiry time.Time) bool { return !e.now().Before(expiry) }

// Password is the password minted for username under secret.
func Password(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// HA1s returns H(username:realm:password) under each accepted secret, for
// Verify.
func (e *Ephemeral) HA1s(alg, username, realm string) ([]string, error) {
	out := make([]string, 0, len(e.secrets))
	for _, s := range e.secrets {
		ha1, err := HA1(alg, username, realm, Password(s, username))
		if err != nil {
			return nil, err
		}
		out = append(out, ha1)
	}
	return out, nil
}
