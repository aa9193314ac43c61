package dialplan

import (
	"fmt"
	"testing"

	"github.com/softswitch/softswitch/dialplan/internal/luapattern"
)

// A pattern is compiled once and shared; the cache never holds more than
// its bound (it starts afresh when full: later patterns are kept, older
// ones compiled again), and a bad pattern is refused every time, never
// kept.
func TestPatternCache(t *testing.T) {
	var c patternCache
	a, err := c.get("^%d%d%d%d$")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.get("^%d%d%d%d$")
	if a != b {
		t.Fatal("the same pattern was compiled twice")
	}
	for i := range 2*maxCachedPatterns + 10 {
		if _, err := c.get(fmt.Sprintf("^x%d$", i)); err != nil {
			t.Fatal(err)
		}
		if n := c.n.Load(); n < 1 || n > maxCachedPatterns {
			t.Fatalf("%d patterns kept, bound %d", n, maxCachedPatterns)
		}
	}
	if _, ok := c.m.Load("^%d%d%d%d$"); ok {
		t.Fatal("the first pattern is still kept after the cache filled twice over")
	}
	late1, _ := c.get("^late$")
	late2, err := c.get("^late$")
	if err != nil || late1 != late2 {
		t.Fatalf("a pattern after the cache started afresh: %v, shared %v", err, late1 == late2)
	}
	if m, _, _ := late1.Find([]byte("late"), 0, luapattern.Limits{}); m == nil {
		t.Fatal("a cached pattern does not match")
	}
	for range 2 {
		if _, err := c.get("[a"); err == nil {
			t.Fatal("a malformed pattern compiled")
		}
	}
	if _, ok := c.m.Load("[a"); ok {
		t.Fatal("a malformed pattern was kept")
	}
}
