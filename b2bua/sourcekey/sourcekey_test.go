package sourcekey

import "testing"

func TestKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"::1", "::1"},
		{"2001:db8:1:2::a", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
		{"", ""},
	} {
		if got := Of(tt.in); got != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzKey(f *testing.F) {
	f.Add("2001:db8::1")
	f.Add("192.0.2.1")
	f.Fuzz(func(t *testing.T, host string) {
		// A key is its own key: an address keys to itself, a /64 (no
		// address) stays as it is.
		if k := Of(host); Of(k) != k {
			t.Fatalf("Of(Of(%q)) = %q, want %q", host, Of(k), k)
		}
	})
}

func TestHost(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"192.0.2.7:5060", "192.0.2.7"},
		{"[2001:db8::1]:5060", "2001:db8::1"},
		{"192.0.2.7", "192.0.2.7"},
		{"", ""},
	} {
		if got := Host(tt.in); got != tt.want {
			t.Errorf("Host(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
