package leg

import (
	"strconv"
	"strings"
)

// Cause is why a leg ended or failed, in the three vocabularies that
// meet in a softswitch: the dialplan's name, the SIP status sent or
// received, and the Q.850 cause value (RFC 3326 Reason header, CDRs).
type Cause struct {
	Name   string // "busy", "no-answer", ... as dialplans say it
	SIP    int    // status code to answer with (0 for a normal clearing by BYE)
	Reason string // SIP reason phrase
	Q850   int
}

// The causes a dialplan can name. Each maps to one SIP status and one
// Q.850 value, as FreeSWITCH and Asterisk map them.
var (
	Normal       = Cause{"normal", 0, "", 16}
	Busy         = Cause{"busy", 486, "Busy Here", 17}
	NoAnswer     = Cause{"no-answer", 480, "No Answer", 19}
	Unavailable  = Cause{"unavailable", 480, "Temporarily Unavailable", 20}
	NotFound     = Cause{"not-found", 404, "Not Found", 1}
	Declined     = Cause{"declined", 603, "Decline", 21}
	Cancelled    = Cause{"cancelled", 487, "Request Terminated", 16}
	Forbidden    = Cause{"forbidden", 403, "Forbidden", 21}
	Incompatible = Cause{"incompatible", 488, "Not Acceptable Here", 88}
	Congestion   = Cause{"congestion", 503, "Service Unavailable", 34}
	Timeout      = Cause{"timeout", 408, "Request Timeout", 18}
	Failure      = Cause{"failure", 500, "Server Internal Error", 41}
	MediaTimeout = Cause{"media-timeout", 0, "", 41}
	// ConnectionLost: the peer's WebSocket or TCP connection closed.
	ConnectionLost = Cause{"connection-lost", 0, "", 41}
)

var byName = map[string]Cause{}

func init() {
	for _, c := range []Cause{Normal, Busy, NoAnswer, Unavailable, NotFound, Declined, Cancelled,
		Forbidden, Incompatible, Congestion, Timeout, Failure, MediaTimeout, ConnectionLost} {
		byName[c.Name] = c
	}
}

// CauseFromName parses a dialplan cause: a name ("busy") or a SIP status
// code ("486"). ok is false for anything else.
func CauseFromName(s string) (Cause, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Normal, true
	}
	if c, ok := byName[s]; ok {
		return c, true
	}
	if code, err := strconv.Atoi(s); err == nil && code >= 400 && code <= 699 {
		return CauseFromSIP(code, ""), true
	}
	return Cause{}, false
}

// CauseFromSIP maps a final SIP status received from a peer to a cause
// (RFC 3398 §8.2.6.1 in reverse, as telephony gateways do).
func CauseFromSIP(code int, reason string) Cause {
	var c Cause
	switch code {
	case 486, 600:
		c = Busy
	case 404, 484, 604:
		c = NotFound
	case 480:
		c = Unavailable
	case 408:
		c = NoAnswer
	case 487:
		c = Cancelled
	case 603:
		c = Declined
	case 403:
		c = Forbidden
	case 488, 606, 415:
		c = Incompatible
	case 502, 503, 504:
		c = Congestion
	default:
		c = Failure
		c.Q850 = 31
		if code >= 500 {
			c.Q850 = 41
		}
	}
	c.SIP = code
	if reason != "" {
		c.Reason = reason
	}
	if c.Reason == "" {
		c.Reason = "Error"
	}
	return c
}

// ReasonHeader renders the RFC 3326 Reason header value for c.
func (c Cause) ReasonHeader() string {
	return `Q.850;cause=` + strconv.Itoa(c.Q850) + `;text="` + c.Name + `"`
}
