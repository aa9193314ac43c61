package registrar

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// CredentialsExpiry is when the credentials of an authenticated request
// stop being good: the expiry of ephemeral credentials, or the zero time
// for a password (which does not expire).
func (a *Authenticator) CredentialsExpiry(req *sip.Request, proxy bool) time.Time {
	creds, found := a.credentials(req, proxy)
	if !found {
		return time.Time{}
	}
	if _, expiry, ok := a.ephemeral.Parse(creds.Username); ok {
		return expiry
	}
	return time.Time{}
}

// capExpires bounds a binding's lifetime, exp seconds from now, by the
// expiry of the credentials that made it (zero: none): a browser whose
// ephemeral credentials ran out stops receiving calls when they do, not at
// the end of the interval it asked for.
func capExpires(exp int, now, until time.Time) int {
	if until.IsZero() {
		return exp
	}
	return max(1, min(exp, int(until.Sub(now)/time.Second)))
}
