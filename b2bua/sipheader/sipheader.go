package sipheader

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Headers is what a sipgo request or response offers (*sip.Request,
// *sip.Response).
type Headers interface {
	Headers() []sip.Header
}

// Get returns the first header called name (any case), or nil.
func Get(m Headers, name string) sip.Header {
	for _, h := range m.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}

// Has reports whether m has a header called name.
func Has(m Headers, name string) bool { return Get(m, name) != nil }

// Count is how many headers called name m has.
func Count(m Headers, name string) int {
	n := 0
	for _, h := range m.Headers() {
		if strings.EqualFold(h.Name(), name) {
			n++
		}
	}
	return n
}

// All returns the headers called name, in order; it allocates only when
// there is one.
func All(m Headers, name string) []sip.Header {
	var out []sip.Header
	for _, h := range m.Headers() {
		if strings.EqualFold(h.Name(), name) {
			out = append(out, h)
		}
	}
	return out
}
