package auth

import "errors"

// Verification outcomes. Callers answer ErrStale with a fresh challenge
// carrying stale=true, and every other error with the same 401/407 as an
// unknown user, so that a client cannot tell them apart.
var (
	ErrMalformed   = errors.New("auth: malformed credentials")
	ErrAlgorithm   = errors.New("auth: unsupported algorithm")
	ErrRealm       = errors.New("auth: wrong realm")
	ErrStale       = errors.New("auth: nonce expired")
	ErrReplay      = errors.New("auth: nonce count replayed")
	ErrBadResponse = errors.New("auth: wrong response")
	ErrQOP         = errors.New("auth: unsupported qop")
	ErrURI         = errors.New("auth: digest uri does not name the request-uri")
	ErrExpired     = errors.New("auth: ephemeral credentials expired")
)
