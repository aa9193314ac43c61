// Package callstory keeps the story of recent calls for `softswitch call
// show`: the SIP ladder of every leg in time order (RFC 3261 messages as
// the transports carried them, WSS and TLS included), each leg's offer and
// answer SDP (RFC 3264), and verdicts, each from a tested rule, that say
// in words what went wrong.
package callstory
