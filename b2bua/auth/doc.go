// Package auth implements the server side of SIP digest authentication:
// challenges, nonces, credential parsing and verification, and a guard that
// throttles and bans sources that keep failing.
//
// RFCs: RFC 3261 §22 (SIP digest; §22.4: the uri names the request), RFC
// 7616 (HTTP digest, qop=auth, SHA-256), RFC 8760 (SHA-256 digest in SIP,
// several challenges in order of preference), RFC 2617 §3.2.2 (nc replay
// protection). Ephemeral credentials follow the TURN REST API draft
// (draft-uberti-behave-turn-rest) as Kamailio's auth_ephemeral does.
//
// Passwords are never stored: verification takes HA1 = H(user:realm:password)
// for the algorithm the client chose. Nonces are bound to the address they
// were sent to, so that only a source that received a challenge can fail it.
package auth
