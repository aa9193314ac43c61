package tests

import (
	"os/exec"
	"testing"
)

// dropUDP drops every UDP packet to and from ip on the test namespace's
// loopback (iptables, Debian package iptables), as a network that blocks
// media would, until the returned function or the test's cleanup lifts it.
// Each test uses its own address, so parallel tests are not affected.
func dropUDP(t *testing.T, ip string) (lift func()) {
	t.Helper()
	return dropInput(t, []string{"-d", ip, "-p", "udp", "-j", "DROP"}, []string{"-s", ip, "-p", "udp", "-j", "DROP"})
}

// dropInput appends rules to the test namespace's INPUT chain (iptables)
// until the returned function or the test's cleanup deletes them.
func dropInput(t *testing.T, rules ...[]string) (lift func()) {
	t.Helper()
	for _, r := range rules {
		if out, err := exec.Command("iptables", append([]string{"-w", "-A", "INPUT"}, r...)...).CombinedOutput(); err != nil {
			t.Fatalf("iptables: %v\n%s (run `make deps`: Debian package iptables)", err, out)
		}
	}
	lifted := false
	lift = func() {
		if lifted {
			return
		}
		lifted = true
		for _, r := range rules {
			if out, err := exec.Command("iptables", append([]string{"-w", "-D", "INPUT"}, r...)...).CombinedOutput(); err != nil {
				t.Errorf("iptables: %v\n%s", err, out)
			}
		}
	}
	t.Cleanup(lift)
	return lift
}
