package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// UserSource looks a user up; *Store is one.
type UserSource interface {
	User(ctx context.Context, ext string) (User, error)
}

// UserCache keeps users (their HA1s) in memory so that a digest check does
// not read SQLite on every request. Users are changed by another process
// (`softswitch user passwd|del`), which tells the server through its
// control socket: Forget and ForgetAll drop entries at once. TTL bounds how
// long a change the server was not told about can go unseen. At most Max
// users are kept. Names that are no user are remembered too, apart (at
// most maxMissing, dropped all at once beyond), so that an unknown name
// costs the same time as a known one: a scanner timing the challenge to
// an INVITE from each name cannot tell extensions apart by a SQLite read
// (issue 12, item 3).
type UserCache struct {
	src UserSource
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	users   map[string]cachedUser
	missing map[string]missingName
	gen     uint64 // bumped by every Forget/ForgetAll: a lookup racing one is not cached
}

// missingName is an unknown name: the store's answer, kept until expires
// (returned as it was: no allocation, the same time as a known user).
type missingName struct {
	err     error
	expires time.Time
}

// maxMissing bounds the unknown names remembered.
const maxMissing = 10000

type cachedUser struct {
	u       User
	expires time.Time
}

// Cache defaults.
const (
	DefaultUserCacheTTL = 30 * time.Second
	DefaultUserCacheMax = 100000
)

// NewUserCache returns a cache in front of src; ttl ≤ 0 and max ≤ 0 mean
// the defaults.
func NewUserCache(src UserSource, ttl time.Duration, max int) *UserCache {
	if ttl <= 0 {
		ttl = DefaultUserCacheTTL
	}
	if max <= 0 {
		max = DefaultUserCacheMax
	}
	return &UserCache{src: src, ttl: ttl, max: max, now: time.Now,
		users: make(map[string]cachedUser), missing: make(map[string]missingName)}
}

// User returns user ext from the cache, or from the source (ErrNotFound
// when there is none).
func (c *UserCache) User(ctx context.Context, ext string) (User, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.users[ext]
	gone, unknown := c.missing[ext]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.u, nil
	}
	if unknown && now.Before(gone.expires) {
		return User{}, gone.err
	}
	u, err := c.src.User(ctx, ext)
	if errors.Is(err, ErrNotFound) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen == gen {
			if _, ok := c.missing[ext]; !ok && len(c.missing) >= maxMissing {
				clear(c.missing)
			}
			c.missing[ext] = missingName{err: err, expires: now.Add(c.ttl)}
		}
		return User{}, err
	}
	if err != nil {
		return User{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return u, nil // forgotten meanwhile: what we read may be the old row
	}
	delete(c.missing, ext)
	if _, ok := c.users[ext]; !ok && len(c.users) >= c.max {
		clear(c.users)
	}
	c.users[ext] = cachedUser{u: u, expires: now.Add(c.ttl)}
	return u, nil
}

// Forget drops user ext: its next lookup reads the source.
func (c *UserCache) Forget(ext string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.users, ext)
	delete(c.missing, ext)
	c.gen++
}

// ForgetAll empties the cache.
func (c *UserCache) ForgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.users)
	clear(c.missing)
	c.gen++
}

// Len is the number of users cached.
func (c *UserCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.users)
}
