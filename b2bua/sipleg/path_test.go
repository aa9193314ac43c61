package sipleg

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitPath(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                   nil,
		"<sip:127.0.0.10;lr>":                {"<sip:127.0.0.10;lr>"},
		"<sip:a;lr>, <sip:b;lr>":             {"<sip:a;lr>", "<sip:b;lr>"},
		`<sip:a;lr;x="1,2">,<sip:b:5070;lr>`: {`<sip:a;lr;x="1,2">`, "<sip:b:5070;lr>"},
		`"Edge, one" <sip:a;lr>, <sip:b>`:    {`"Edge, one" <sip:a;lr>`, "<sip:b>"},
	} {
		if got := splitPath(in); !slices.Equal(got, want) {
			t.Errorf("splitPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFirstHop(t *testing.T) {
	tests := []struct {
		routes          []string
		dest, transport string
		ok              bool
	}{
		{[]string{"<sip:127.0.0.10;lr;received=sip:127.0.0.1:40000%3Btransport%3Dws>"}, "127.0.0.10:5060", "udp", true},
		{[]string{"<sip:127.0.0.10:5070;transport=tcp;lr>", "<sip:x;lr>"}, "127.0.0.10:5070", "tcp", true},
		{[]string{"<sips:edge.example;lr>"}, "edge.example:5060", "udp", true},
		{[]string{"<sip:[::1]:5080;lr>"}, "[::1]:5080", "udp", true},
		{[]string{"<sip:;lr"}, "", "", false},
		{nil, "", "", false},
	}
	for _, tt := range tests {
		dest, tr, ok := firstHop(tt.routes)
		if dest != tt.dest || tr != tt.transport || ok != tt.ok {
			t.Errorf("firstHop(%q) = %q %q %v, want %q %q %v", tt.routes, dest, tr, ok, tt.dest, tt.transport, tt.ok)
		}
	}
}

// FuzzPath: any stored Path splits into trimmed entries found in the
// input in order, and its first hop never panics.
func FuzzPath(f *testing.F) {
	f.Add("<sip:127.0.0.10;lr>, <sip:b;lr>")
	f.Add(`"a,b" <sip:x>,`)
	f.Fuzz(func(t *testing.T, path string) {
		parts := splitPath(path)
		for _, p := range parts {
			if p == "" || p != strings.TrimSpace(p) {
				t.Fatalf("splitPath(%q) gave entry %q", path, p)
			}
		}
		at := 0 // the entries are the input's, in order
		for _, p := range parts {
			k := strings.Index(path[at:], p)
			if k < 0 {
				t.Fatalf("splitPath(%q) = %q: %q not in the input after byte %d", path, parts, p, at)
			}
			at += k + len(p)
		}
		_, _, _ = firstHop(parts)
	})
}
