// Package sipserver is the SIP edge of the softswitch: it owns the sipgo
// user agent and its listeners (UDP, TCP, TLS, and WebSocket/secure
// WebSocket mounted on our own HTTP(S) mux), tells the registrar when a
// connection closes, answers malformed input with 400 before sipgo sees it,
// answers OPTIONS (statelessly over UDP and WebSocket), limits the rate of
// out-of-dialog INVITE and REGISTER per source (a stateless 503 with
// Retry-After beyond it), and drains on shutdown.
//
// RFCs: RFC 3261 (transports, §8.2 request validation, §18), RFC 3581
// (rport, handled by sipgo), RFC 5626 §4.4.1 (CRLF keep-alive, answered by
// sipgo on stream transports), RFC 7118 (SIP over WebSocket, subprotocol "sip").
package sipserver
