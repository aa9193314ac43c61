// Package registrar implements the SIP registrar: REGISTER with digest
// authentication, bindings with expiry, and their life tied to the
// connection they came on. It also provides the Authenticator that other
// request handlers (INVITE) use to challenge extensions.
//
// RFCs: RFC 3261 §10 (registrations) and §22 (authentication), RFC 8760
// (SHA-256 digest), RFC 3581 (rport: the source address is recorded),
// RFC 5626 §4.2 and RFC 5627 (+sip.instance/reg-id: one binding per device
// instance), RFC 7118 (bindings over WebSocket live as long as the socket).
package registrar
