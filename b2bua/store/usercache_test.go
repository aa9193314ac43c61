package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The cache answers from memory until told (or the TTL says) the row changed.
func TestUserCache(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
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
}

// A full cache starts over instead of growing past Max.
func TestUserCacheMax(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
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
}

func BenchmarkUserLookup(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	addUser(b, s, "1001")
	for _, bc := range []struct {
		name string
		src  UserSource
	}{{"sqlite", s}, {"cache", NewUserCache(s, time.Hour, 0)}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.src.User(ctx, "1001"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
