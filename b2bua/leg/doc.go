// Package leg is the contract between a call (package b2bua) and the legs
// it joins: a Leg is one side of a call with its own signalling and media,
// and a Dialer resolves a dialplan target into the branches (one INVITE
// each) a call forks to. It also maps hangup causes between SIP status
// codes (RFC 3261 §21), Q.850 cause values (RFC 3326 Reason header) and
// the names dialplans use.
package leg
