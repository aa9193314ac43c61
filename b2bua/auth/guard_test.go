package auth

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestGuard(t *testing.T) {
	var logs bytes.Buffer
	g := NewGuard(GuardConfig{Window: time.Minute, ThrottleAfter: 3, BanAfter: 6, BanFor: 10 * time.Minute},
		slog.New(slog.NewTextHandler(&logs, nil)))
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	g.now = clk.now
	const src = "192.0.2.7"

	for i := 0; i < 3; i++ {
		if v := g.Check(src); v != Allow {
			t.Fatalf("attempt %d: %v, want allow", i, v)
		}
		g.Fail(src)
	}
	// Throttled: one attempt per second.
	if v := g.Check(src); v != Throttle {
		t.Fatalf("right after 3 failures: %v, want throttle", v)
	}
	for i := 0; i < 100; i++ {
		g.Check(src) // a flood: must not log per packet
	}
	clk.t = clk.t.Add(1100 * time.Millisecond)
	if v := g.Check(src); v != Allow {
		t.Fatalf("a second later: %v, want allow", v)
	}
	if v := g.Check("192.0.2.8"); v != Allow {
		t.Fatalf("other source: %v, want allow", v)
	}
	for i := 0; i < 3; i++ {
		g.Fail(src)
	}
	if v := g.Check(src); v != Ban {
		t.Fatalf("after 6 failures: %v, want ban", v)
	}
	g.Succeed(src) // a success during a ban does not lift it
	clk.t = clk.t.Add(9 * time.Minute)
	if v := g.Check(src); v != Ban {
		t.Fatalf("9 minutes into the ban: %v, want ban", v)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if v := g.Check(src); v != Allow {
		t.Fatalf("after the ban: %v, want allow", v)
	}
	out := logs.String()
	for _, want := range []string{"auth source throttled", "auth source banned", "auth ban lifted"} {
		if n := strings.Count(out, want); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", want, n, out)
		}
	}
}

func TestGuardWindowForgets(t *testing.T) {
	g := NewGuard(GuardConfig{Window: time.Minute, ThrottleAfter: 2}, slog.New(slog.DiscardHandler))
	clk := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	g.now = clk.now
	g.Fail("h")
	clk.t = clk.t.Add(2 * time.Minute)
	g.Fail("h")
	if v := g.Check("h"); v != Allow {
		t.Fatalf("failures in separate windows throttled: %v", v)
	}
	g.Fail("h")
	g.Succeed("h")
	if v := g.Check("h"); v != Allow {
		t.Fatalf("after success: %v", v)
	}
}

func TestGuardBoundedSources(t *testing.T) {
	g := NewGuard(GuardConfig{MaxSources: 10}, slog.New(slog.DiscardHandler))
	for i := 0; i < 100; i++ {
		g.Fail(strings.Repeat("x", i+1))
	}
	if len(g.sources) > 10 {
		t.Fatalf("tracked %d sources, limit 10", len(g.sources))
	}
}

// Addresses of one IPv6 /64 are one source: an attacker who picks a new
// address for each guess is banned all the same; another /64 is not.
func TestGuardCountsIPv6Per64(t *testing.T) {
	g := NewGuard(GuardConfig{Window: time.Minute, ThrottleAfter: 20, BanAfter: 20, BanFor: 10 * time.Minute},
		slog.New(slog.DiscardHandler))
	for i := 0; i < 20; i++ {
		src := fmt.Sprintf("2001:db8:1:2::%x", i+1)
		if v := g.Check(src); v != Allow {
			t.Fatalf("guess %d from %s: %v, want allow", i, src, v)
		}
		g.Fail(src)
	}
	if v := g.Check("2001:db8:1:2:abcd::99"); v != Ban {
		t.Fatalf("a fresh address of the /64 after 20 failures in it: %v, want ban", v)
	}
	if v := g.Check("2001:db8:1:3::1"); v != Allow {
		t.Fatalf("another /64: %v, want allow", v)
	}
}
