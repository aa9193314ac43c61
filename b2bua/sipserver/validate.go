package sipserver

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/sipheader"
)

// check checks what RFC 3261 §8.1.1 makes mandatory in a request and
// returns the status (505 for another SIP version, else 400) and a reason
// for it, or 0 and "".
func check(req *sip.Request) (int, string) {
	switch {
	case req.SipVersion != "SIP/2.0" && isSIPVersion(req.SipVersion):
		return 505, "unsupported SIP version " + strconv.Quote(ratelog.Truncate(req.SipVersion, 32))
	case req.SipVersion != "SIP/2.0":
		return 400, "malformed SIP version " + strconv.Quote(ratelog.Truncate(req.SipVersion, 32))
	case req.From() == nil:
		return 400, "missing From header"
	case req.To() == nil:
		return 400, "missing To header"
	case req.CallID() == nil || req.CallID().Value() == "":
		return 400, "missing Call-ID header"
	case req.Method == sip.INVITE && !hasTag(req.From()):
		// RFC 3261 §8.1.1.3: no dialog can be formed without it.
		return 400, "INVITE without a From tag"
	case req.CSeq() == nil:
		return 400, "missing CSeq header"
	case req.CSeq().MethodName != req.Method:
		return 400, "CSeq method " + ratelog.Truncate(string(req.CSeq().MethodName), 32) + " does not match " + ratelog.Truncate(string(req.Method), 32)
	case req.Via() == nil:
		return 400, "missing Via header"
	case req.Via().Transport == "" || req.Via().Host == "":
		return 400, "malformed Via header"
	case sipheader.Count(req, "Content-Length") > 1:
		// RFC 4475 §3.1.2.11 (mcl01): which one frames the body is unknowable.
		return 400, "more than one Content-Length header"
	}
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(req.Body()) {
		return 400, "Content-Length " + strconv.Itoa(int(*cl)) + " does not match the body"
	}
	return 0, ""
}

// validate is check's reason alone.
func validate(req *sip.Request) string {
	_, reason := check(req)
	return reason
}

// statusText is the reason phrase of the statuses check returns.
func statusText(code int) string {
	if code == 505 {
		return "Version Not Supported"
	}
	return "Bad Request"
}

// unsupported returns the option tags of req's Require headers that we do
// not support, comma-separated, or "" (RFC 3261 §8.2.2.3: never for ACK or
// CANCEL, whose Require is not checked).
func unsupported(req *sip.Request) string {
	if req.IsAck() || req.IsCancel() {
		return ""
	}
	var out []string
	for _, h := range sipheader.All(req, "Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			tag = strings.TrimSpace(tag)
			if tag == "" || isSupported(tag) {
				continue
			}
			out = append(out, sanitize(ratelog.Truncate(tag, 64)))
		}
	}
	return strings.Join(out, ", ")
}

// isSupported reports whether a Require header may name tag: session
// timers (RFC 4028), Replaces (RFC 3891, call pickup), and what OPTIONS
// advertises.
func isSupported(tag string) bool {
	switch strings.ToLower(tag) {
	case "timer", "replaces", "path", "outbound", "gruu":
		return true
	}
	return false
}

// isSIPVersion reports whether v reads SIP/digits.digits (RFC 3261 §25.1).
func isSIPVersion(v string) bool {
	major, minor, ok := strings.Cut(strings.TrimPrefix(v, "SIP/"), ".")
	return ok && strings.HasPrefix(v, "SIP/") && allDigits(major) && allDigits(minor)
}

func allDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func hasTag(h *sip.FromHeader) bool {
	tag, _ := h.Params.Get("tag")
	return tag != ""
}
