package leg

import "context"

// Refer is a transfer the peer of a leg asked for (RFC 3515 REFER): its
// leg was answered 202 Accepted, and the call reports the outcome with
// Notify.
type Refer struct {
	// Target is the user part of the Refer-To URI (the number the
	// dialplan runs for), and URI the whole Refer-To URI.
	Target, URI string
	// ReferredBy is who asked (RFC 3892 Referred-By user, or the From
	// user of the REFER).
	ReferredBy string
	// Replaces names the dialog the target replaces (attended transfer,
	// RFC 3891), or nil for a blind transfer.
	Replaces *Replaces
	// Notifier reports the transfer's progress to the referrer.
	Notifier Notifier
}

// Replaces identifies a dialog by its Call-ID and tags (RFC 3891).
type Replaces struct {
	CallID, ToTag, FromTag string
	EarlyOnly              bool
}

// Notifier tells the referrer how its transfer goes: NOTIFY with a
// message/sipfrag status line ("SIP/2.0 100 Trying", "SIP/2.0 200 OK").
// A final status (200 or above) ends the implicit subscription.
type Notifier interface {
	Notify(ctx context.Context, code int, reason string) error
}
