// Package siptrace shows the SIP messages the softswitch sends and
// receives, on every transport (WS/WSS and TLS in clear, since we terminate
// them): as debug log lines with their call_id, as a live stream for
// `softswitch trace`, and as HEP v3 packets (HEP3 draft, as Homer and
// sngrep read it) to a capture server.
//
// The transports hand every message to a Tracer (see sipserver); when no
// consumer is on, Active is one atomic load and nothing is parsed.
package siptrace
