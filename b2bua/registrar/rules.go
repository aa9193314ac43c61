package registrar

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
)

// Limits bound what a REGISTER may ask for.
type Limits struct {
	MinExpires     int `yaml:"min_expires"`     // seconds; shorter gets 423; default 60
	MaxExpires     int `yaml:"max_expires"`     // seconds; longer is cut to this; default 3600
	DefaultExpires int `yaml:"default_expires"` // when the request names none; default 3600
	MaxContacts    int `yaml:"max_contacts"`    // per extension; default 10
}

func (l Limits) withDefaults() Limits {
	if l.MinExpires <= 0 {
		l.MinExpires = 60
	}
	if l.MaxExpires <= 0 {
		l.MaxExpires = 3600
	}
	if l.MaxExpires < l.MinExpires {
		l.MaxExpires = l.MinExpires
	}
	if l.DefaultExpires <= 0 {
		l.DefaultExpires = 3600
	}
	l.DefaultExpires = min(max(l.DefaultExpires, l.MinExpires), l.MaxExpires)
	if l.MaxContacts <= 0 {
		l.MaxContacts = 10
	}
	return l
}

// contact is one Contact of a REGISTER, expires already resolved from the
// contact's parameter or the Expires header (-1: neither was given).
type contact struct {
	uri      string
	expires  int
	instance string
	regID    int
}

// update is what one REGISTER asks for.
type update struct {
	ext       string
	callID    string
	cseq      uint32
	star      bool // Contact: *
	contacts  []contact
	transport string
	source    string
	connKey   string // "" for UDP
	userAgent string
	path      string // Path (RFC 3327) from a trusted proxy; "" when direct
	now       time.Time
	until     time.Time // when the credentials expire; zero: never
}

// binding is a registration in memory: the stored record plus the
// connection it lives on.
type binding struct {
	store.Binding
	connKey string
}

// rejection is a REGISTER refused by the rules.
type rejection struct {
	code    int
	reason  string
	headers []string // name, value pairs
}

// apply computes the bindings of an extension after upd (RFC 3261 §10.3
// steps 6–8, RFC 5627 §6). It returns the new set and the bindings that
// were removed, or a rejection; cur is not modified.
func apply(cur []binding, upd update, lim Limits) (next, removed []binding, rej *rejection) {
	if upd.star {
		if len(upd.contacts) != 0 {
			return nil, nil, &rejection{code: 400, reason: "Bad Request: Contact * must be alone"}
		}
		for _, b := range cur {
			if b.CallID == upd.callID && upd.cseq <= b.CSeq {
				return nil, nil, &rejection{code: 500, reason: "Server Internal Error: out of order CSeq", headers: []string{"Retry-After", "1"}}
			}
		}
		return nil, append([]binding(nil), cur...), nil
	}
	for _, c := range upd.contacts {
		if c.expires > 0 && c.expires < lim.MinExpires {
			return nil, nil, &rejection{code: 423, reason: "Interval Too Brief", headers: []string{"Min-Expires", strconv.Itoa(lim.MinExpires)}}
		}
	}
	next = append(make([]binding, 0, len(cur)+len(upd.contacts)), cur...)
	for _, c := range upd.contacts {
		idx := -1
		for i, b := range next {
			if b.Contact == c.uri || c.instance != "" && b.Instance == c.instance && b.RegID == c.regID {
				idx = i
				break
			}
		}
		if idx >= 0 && next[idx].CallID == upd.callID && upd.cseq <= next[idx].CSeq {
			return nil, nil, &rejection{code: 500, reason: "Server Internal Error: out of order CSeq", headers: []string{"Retry-After", "1"}}
		}
		if c.expires == 0 {
			if idx >= 0 {
				removed = append(removed, next[idx])
				next = append(next[:idx], next[idx+1:]...)
			}
			continue
		}
		exp := c.expires
		if exp < 0 {
			exp = lim.DefaultExpires
		}
		exp = capExpires(min(exp, lim.MaxExpires), upd.now, upd.until)
		nb := binding{
			Binding: store.Binding{
				Ext: upd.ext, Contact: c.uri, Instance: c.instance, RegID: c.regID,
				Transport: upd.transportOf(c.uri), Source: upd.source, CallID: upd.callID, CSeq: upd.cseq,
				UserAgent: upd.userAgent, Expires: upd.now.Add(time.Duration(exp) * time.Second), Updated: upd.now,
				Path: upd.path,
			},
			connKey: upd.connKey,
		}
		if idx >= 0 {
			if next[idx].Contact != c.uri {
				// Same device instance at a new address: the old binding goes.
				removed = append(removed, next[idx])
			}
			next[idx] = nb
			continue
		}
		if len(next) >= lim.MaxContacts {
			return nil, nil, &rejection{code: 403, reason: "Forbidden: too many contacts for this extension"}
		}
		next = append(next, nb)
	}
	return next, removed, nil
}

// transportOf is the transport a contact registered with: the request's,
// or through a proxy (Path) the one the UA uses to reach the proxy, from
// the Contact's transport parameter (a browser's is ws or wss): what its
// calls' media follow.
func (u update) transportOf(contact string) string {
	if u.path == "" {
		return u.transport
	}
	var uri sip.Uri
	if err := sip.ParseUri(contact, &uri); err == nil && uri.UriParams != nil {
		if t, ok := uri.UriParams.Get("transport"); ok && t != "" {
			return strings.ToLower(t)
		}
	}
	if strings.EqualFold(uri.Scheme, "sips") {
		return "tls"
	}
	return "udp"
}
