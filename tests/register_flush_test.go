package tests

import (
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var expiresIn = regexp.MustCompile(`expires in (\d+)s`)

// storedExpiry is how many seconds the stored binding of ext has left, as
// `softswitch user list` reads it from the database; -1 when none.
func storedExpiry(s *server, ext string) int {
	m := expiresIn.FindStringSubmatch(s.registrations(ext))
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A refresh is written off the request path, but it reaches the disk
// without a clean shutdown: after a kill -9 the binding comes back with
// the refreshed expiry.
func TestRegisterRefreshSurvivesKill(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := dialSIP(t, s, "udp")
	c.login("1001", testUsers["1001"], 120, "")
	if n := storedExpiry(s, "1001"); n < 0 || n > 120 {
		t.Fatalf("new binding not stored at once: %q", s.registrations("1001"))
	}
	c.mustRegister("1001", testUsers["1001"], 3000, "", 200)
	deadline := time.Now().Add(30 * time.Second)
	for storedExpiry(s, "1001") <= 120 {
		if time.Now().After(deadline) {
			t.Fatalf("refresh to 3000 s not stored within 30 s: %q", s.registrations("1001"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = s.stop(syscall.SIGKILL)
	s2 := startServer(t, s.data)
	if reg := s2.registrations("1001"); !strings.Contains(reg, "via udp") || storedExpiry(s2, "1001") <= 120 {
		t.Fatalf("refreshed registration after kill -9: %q", reg)
	}
}
