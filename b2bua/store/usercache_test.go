package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// The cache answers from memory until told (or the TTL says) the row changed.
func TestUserCache(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := context.Background()
		s := db.newStore(t)
		addUser(t, s, "1001")
		c := NewUserCache(s, time.Hour, 0)
		now := time.Unix(1_800_000_000, 0)
		c.now = func() time.Time { return now }

		u, err := c.User(ctx, "1001")
		if err != nil || u.Ext != "1001" {
			t.Fatalf("User = %+v, %v", u, err)
		}
		old := u.HA1MD5
		if err := s.SetUserHA1(ctx, "1001", "r", "new-md5", "new-sha"); err != nil {
			t.Fatal(err)
		}
		if u, _ := c.User(ctx, "1001"); u.HA1MD5 != old {
			t.Fatalf("cached HA1 = %q, want the one read first %q", u.HA1MD5, old)
		}
		c.Forget("1001")
		if u, _ := c.User(ctx, "1001"); u.HA1MD5 != "new-md5" {
			t.Fatalf("after Forget HA1 = %q, want new-md5", u.HA1MD5)
		}
		if err := s.DeleteUser(ctx, "1001"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.User(ctx, "1001"); err != nil {
			t.Fatalf("cached user gone before ForgetAll: %v", err)
		}
		c.ForgetAll()
		if _, err := c.User(ctx, "1001"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after ForgetAll err = %v, want ErrNotFound", err)
		}
		if c.Len() != 0 {
			t.Fatalf("an unknown user was cached: Len = %d", c.Len())
		}

		// The TTL bounds a change nobody told the cache about.
		addUser(t, s, "1002")
		if _, err := c.User(ctx, "1002"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, "1002"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour + time.Second)
		if _, err := c.User(ctx, "1002"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after the TTL err = %v, want ErrNotFound", err)
		}
	})
}

// countingSource counts the lookups that reach the store.
type countingSource struct {
	src UserSource
	n   int
}

func (c *countingSource) User(ctx context.Context, ext string) (User, error) {
	c.n++
	return c.src.User(ctx, ext)
}

// An unknown name is answered from memory like a known one after its
// first lookup (no SQLite read for a scanner to time), until the TTL, a
// Forget or ForgetAll (a user added); a flood of unknown names does not
// push the known users out.
func TestUserCacheRemembersUnknownNames(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := context.Background()
		s := db.newStore(t)
		addUser(t, s, "1001")
		src := &countingSource{src: s}
		c := NewUserCache(src, time.Hour, 0)
		now := time.Unix(1_800_000_000, 0)
		c.now = func() time.Time { return now }
		for i := 0; i < 3; i++ {
			if _, err := c.User(ctx, "1999"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown name: err = %v, want ErrNotFound", err)
			}
			if _, err := c.User(ctx, "1001"); err != nil {
				t.Fatal(err)
			}
		}
		if src.n != 2 {
			t.Fatalf("%d store lookups for 3 rounds of a known and an unknown name, want 2", src.n)
		}
		addUser(t, s, "1999")
		c.ForgetAll() // what `softswitch user add` makes the server do
		if _, err := c.User(ctx, "1999"); err != nil {
			t.Fatalf("a user added after its name was looked up: %v", err)
		}
		if err := s.DeleteUser(ctx, "1999"); err != nil {
			t.Fatal(err)
		}
		c.Forget("1999")
		if _, err := c.User(ctx, "1999"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after Forget: err = %v, want ErrNotFound", err)
		}
		now = now.Add(2 * time.Hour) // the TTL: the store is asked again
		before := src.n
		if _, err := c.User(ctx, "1999"); !errors.Is(err, ErrNotFound) || src.n != before+1 {
			t.Fatalf("after the TTL: err = %v, lookups %d -> %d", err, before, src.n)
		}
		if _, err := c.User(ctx, "1001"); err != nil { // cached anew after the TTL
			t.Fatal(err)
		}
		for i := 0; i < maxMissing+10; i++ {
			_, _ = c.User(ctx, fmt.Sprintf("scan-%d", i))
		}
		if len(c.missing) > maxMissing {
			t.Fatalf("%d unknown names remembered, want at most %d", len(c.missing), maxMissing)
		}
		before = src.n
		if _, err := c.User(ctx, "1001"); err != nil || src.n != before {
			t.Fatalf("a known user was pushed out by unknown names: err %v, lookups %d -> %d", err, before, src.n)
		}
	})
}

// A full cache starts over instead of growing past Max.
func TestUserCacheMax(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := context.Background()
		s := db.newStore(t)
		for _, ext := range []string{"1", "2", "3"} {
			addUser(t, s, ext)
		}
		c := NewUserCache(s, time.Hour, 2)
		for _, ext := range []string{"1", "2", "3"} {
			if _, err := c.User(ctx, ext); err != nil {
				t.Fatal(err)
			}
			if c.Len() > 2 {
				t.Fatalf("Len = %d after %s, want ≤ 2", c.Len(), ext)
			}
		}
	})
}

func BenchmarkUserLookup(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	addUser(b, s, "1001")
	cache := NewUserCache(s, time.Hour, 0)
	for _, bc := range []struct {
		name, ext string
		src       UserSource
	}{{"sqlite", "1001", s}, {"sqlite-unknown", "1999", s}, {"cache", "1001", cache}, {"cache-unknown", "1999", cache}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.src.User(ctx, bc.ext); err != nil && !errors.Is(err, ErrNotFound) {
					b.Fatal(err)
				}
			}
		})
	}
}
