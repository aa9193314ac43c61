// Package sipleg implements call legs over SIP with sipgo: inbound legs
// from INVITEs (as UAS) and outbound legs (as UAC, one INVITE per branch:
// Resolve turns a target into branches, every registered contact of a
// user, and the call forks over them). Each leg is its own dialog with its
// own media endpoint; nothing of one leg's SDP reaches the other.
//
// RFCs: RFC 3261 (INVITE, CANCEL, BYE, ACK, re-INVITE), RFC 3264
// (offer/answer), RFC 3311 (UPDATE), RFC 4028 (session timers: refreshes
// are answered), RFC 6086 (INFO; application/dtmf-relay and
// application/dtmf bodies), RFC 7118 (calling a browser on the WebSocket
// it registered on), RFC 3326 (Reason), RFC 3515 (REFER answered 202,
// 400 for an unusable Refer-To, 481 outside a dialog; NOTIFY with
// message/sipfrag), RFC 3892 (Referred-By), RFC 3891 (Replaces in Refer-To).
package sipleg
