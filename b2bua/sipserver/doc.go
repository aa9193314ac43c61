// Package sipserver is the SIP edge of the softswitch: it owns the sipgo
// user agent and its listeners (UDP, TCP, TLS, and WebSocket/secure
// WebSocket mounted on our own HTTP(S) mux), tells the registrar when a
// connection closes, answers malformed input with 400 before sipgo sees it,
// answers OPTIONS (statelessly over UDP and WebSocket), limits the rate of
// out-of-dialog INVITE and REGISTER per source (a stateless 503 with
// Retry-After beyond it), and drains on shutdown.
//
// Stream connections are guarded (guard.go, tlslisten.go): the accept
// loops back off and go on when accept fails (EMFILE, ENFILE), connections
// are capped in total and per source, one that sends no request (a
// WebSocket: that does not register) is closed after an idle timeout, a
// TLS handshake has its own timeout, and TCP/TLS messages have the size cap
// of UDP ones. The HTTP(S) port that carries WebSockets is guarded the same
// way (GuardHTTP, httpguard.go): an upgraded connection is counted once. Bad input is logged once per source per minute, truncated,
// and sipgo's own log lines are truncated and rate-limited (logging.go).
// RFC 3261 §8.2.2.3 (420 with Unsupported for an unknown Require), §21.5.6
// (505 for another SIP version), RFC 4475 (torture tests).
//
// RFCs: RFC 3261 (transports, §8.2 request validation, §18), RFC 3581
// (rport, handled by sipgo), RFC 5626 §4.4.1 (CRLF keep-alive, answered by
// sipgo on stream transports), RFC 7118 (SIP over WebSocket, subprotocol "sip").
package sipserver
