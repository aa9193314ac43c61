package sipleg

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
)

// errBadReferTo is wrapped by parseReferTo's errors: the REFER is
// answered 400.
var errBadReferTo = errors.New("bad Refer-To")

// maxReferTo bounds the Refer-To value we read.
const maxReferTo = 2048

// referTo is a parsed Refer-To header (RFC 3515 §2.1): the URI to
// transfer to, and the dialog it replaces for an attended transfer
// (RFC 3891, carried as the URI header "?Replaces=").
type referTo struct {
	uri      string // the URI without its headers
	user     string // its user part, percent-decoded
	replaces *leg.Replaces
}

// parseReferTo reads a Refer-To value: a name-addr ("<sip:...>", with an
// optional display name and header parameters) or an addr-spec. The URI
// must be sip: or sips: with a user part (the number to transfer to).
func parseReferTo(v string) (referTo, error) {
	if len(v) > maxReferTo {
		return referTo{}, fmt.Errorf("%w: longer than %d bytes", errBadReferTo, maxReferTo)
	}
	raw, err := addrSpec(strings.TrimSpace(v))
	if err != nil {
		return referTo{}, err
	}
	uriPart, headers, _ := strings.Cut(raw, "?")
	var u sip.Uri
	if err := sip.ParseUri(uriPart, &u); err != nil {
		return referTo{}, fmt.Errorf("%w: %q: %w", errBadReferTo, uriPart, err)
	}
	if s := strings.ToLower(u.Scheme); s != "sip" && s != "sips" {
		return referTo{}, fmt.Errorf("%w: scheme %q is not sip or sips", errBadReferTo, u.Scheme)
	}
	user, err := url.PathUnescape(u.User)
	if err != nil || user == "" || u.Host == "" || strings.ContainsFunc(user, badTargetRune) {
		return referTo{}, fmt.Errorf("%w: %q has no usable user and host", errBadReferTo, uriPart)
	}
	rt := referTo{uri: uriPart, user: user}
	if headers == "" {
		return rt, nil
	}
	for _, h := range strings.Split(headers, "&") {
		name, value, _ := strings.Cut(h, "=")
		if !strings.EqualFold(name, "Replaces") {
			continue // other embedded headers are not ours to act on
		}
		if rt.replaces != nil {
			return referTo{}, fmt.Errorf("%w: two Replaces", errBadReferTo)
		}
		value, err := url.QueryUnescape(value)
		if err != nil {
			return referTo{}, fmt.Errorf("%w: Replaces: %w", errBadReferTo, err)
		}
		r, err := parseReplaces(value)
		if err != nil {
			return referTo{}, err
		}
		rt.replaces = r
	}
	return rt, nil
}

// addrSpec returns the URI of a name-addr or addr-spec value.
func addrSpec(v string) (string, error) {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return "", fmt.Errorf("%w: unclosed <", errBadReferTo)
		}
		return strings.TrimSpace(v[i+1 : i+j]), nil
	}
	// An addr-spec: its parameters belong to the header, and it may not
	// carry URI headers (RFC 3261 §20.10: those need the <> form).
	spec, _, _ := strings.Cut(v, ";")
	if spec == "" {
		return "", fmt.Errorf("%w: empty", errBadReferTo)
	}
	return strings.TrimSpace(spec), nil
}

// parseReplaces reads a Replaces value (RFC 3891 §6.1):
// "callid;to-tag=T;from-tag=F[;early-only]"; both tags are required.
func parseReplaces(v string) (*leg.Replaces, error) {
	parts := strings.Split(v, ";")
	r := &leg.Replaces{CallID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "to-tag":
			r.ToTag = strings.TrimSpace(value)
		case "from-tag":
			r.FromTag = strings.TrimSpace(value)
		case "early-only":
			r.EarlyOnly = true
		}
	}
	if r.CallID == "" || r.ToTag == "" || r.FromTag == "" || strings.ContainsFunc(r.CallID+r.ToTag+r.FromTag, badTargetRune) {
		return nil, fmt.Errorf("%w: Replaces %q needs a Call-ID, to-tag and from-tag", errBadReferTo, v)
	}
	return r, nil
}

// badTargetRune refuses control characters and spaces in what reaches
// the dialplan and the logs.
func badTargetRune(r rune) bool { return r < 0x21 || r == 0x7f }
