// Package b2bua is the call core: an Engine takes inbound legs, runs the
// dialplan for each as a Call, and joins legs into bridges. A Call has one
// owner goroutine (the one running its dialplan); the peer's hangup and
// digits reach it through its context and a digit queue. Package b2bua
// never imports a concrete leg kind: it is handed a leg.Dialer.
//
// RFCs: RFC 3261 (B2BUA behaviour: each leg its own dialog), RFC 3326
// (Reason header causes in CDRs), RFC 4733 (digits relayed between legs),
// RFC 3515 and RFC 3892 (transfers: REFER from either leg runs the dialplan
// for the target, Referred-By as call.referred_by), RFC 3891 (attended
// transfer: a REFER whose Replaces names the caller's other call).
package b2bua
