package auth

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// Verdict is what a Guard says about a request from a source.
type Verdict int

const (
	Allow    Verdict = iota // process normally
	Throttle                // too many recent failures: answer 503 with Retry-After
	Ban                     // banned for a while: answer 403
)

func (v Verdict) String() string {
	switch v {
	case Throttle:
		return "throttle"
	case Ban:
		return "ban"
	}
	return "allow"
}

// GuardConfig configures a Guard. Zero values mean the defaults.
type GuardConfig struct {
	Window        time.Duration `yaml:"window"`         // failures older than this are forgotten; default 60s
	ThrottleAfter int           `yaml:"throttle_after"` // failures in Window before throttling; default 5
	BanAfter      int           `yaml:"ban_after"`      // failures in Window before a ban; default 20
	BanFor        time.Duration `yaml:"ban_for"`        // ban length; default 10m
	MaxSources    int           `yaml:"max_sources"`    // sources tracked at most; default 65536
}

// Guard counts authentication failures per source address. After
// ThrottleAfter failures a source may try once per second; after BanAfter it
// is refused for BanFor. It logs each change of state once, not per packet.
type Guard struct {
	cfg GuardConfig
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	sources map[string]*source

	failures, bans, refusals atomic.Uint64 // since start, for metrics
}

// GuardCounts are a Guard's totals since it started.
type GuardCounts struct {
	Failures uint64 // authentication failures recorded
	Bans     uint64 // sources banned
	Refused  uint64 // requests refused while throttled or banned
}

// Counts returns the totals since the Guard started.
func (g *Guard) Counts() GuardCounts {
	return GuardCounts{Failures: g.failures.Load(), Bans: g.bans.Load(), Refused: g.refusals.Load()}
}

type source struct {
	failures    int
	windowStart time.Time
	lastTry     time.Time
	bannedUntil time.Time
	refused     int // requests refused during the current ban or throttle
	throttled   bool
}

// NewGuard returns a Guard logging to log.
func NewGuard(cfg GuardConfig, log *slog.Logger) *Guard {
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.ThrottleAfter <= 0 {
		cfg.ThrottleAfter = 5
	}
	if cfg.BanAfter <= 0 {
		cfg.BanAfter = 20
	}
	if cfg.BanAfter < cfg.ThrottleAfter {
		cfg.BanAfter = cfg.ThrottleAfter
	}
	if cfg.BanFor <= 0 {
		cfg.BanFor = 10 * time.Minute
	}
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = 65536
	}
	return &Guard{cfg: cfg, log: log, now: time.Now, sources: make(map[string]*source)}
}

// Check says whether a request from host (an IP, no port) may be processed.
// Sources are counted as package sourcekey says: an IPv6 /64 is one.
func (g *Guard) Check(host string) Verdict {
	host = sourcekey.Of(host)
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sources[host]
	if s == nil {
		return Allow
	}
	now := g.now()
	if !s.bannedUntil.IsZero() {
		if now.Before(s.bannedUntil) {
			s.refused++
			g.refusals.Add(1)
			return Ban
		}
		g.log.Warn("auth ban lifted", "source", host, "refused_during_ban", s.refused)
		delete(g.sources, host)
		return Allow
	}
	if now.Sub(s.windowStart) > g.cfg.Window {
		g.endThrottleLocked(host, s)
		delete(g.sources, host)
		return Allow
	}
	if s.failures >= g.cfg.ThrottleAfter {
		if now.Sub(s.lastTry) < time.Second {
			s.refused++
			g.refusals.Add(1)
			return Throttle
		}
		s.lastTry = now
	}
	return Allow
}

// Fail records an authentication failure (wrong password, unknown user, a
// nonce not ours) from host.
func (g *Guard) Fail(host string) {
	host = sourcekey.Of(host)
	g.failures.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	s := g.sources[host]
	if s == nil || now.Sub(s.windowStart) > g.cfg.Window {
		if s == nil && len(g.sources) >= g.cfg.MaxSources {
			g.sweepLocked(now)
			if len(g.sources) >= g.cfg.MaxSources {
				return
			}
		}
		s = &source{windowStart: now}
		g.sources[host] = s
	}
	s.failures++
	s.lastTry = now
	switch {
	case s.failures == g.cfg.BanAfter:
		s.bannedUntil = now.Add(g.cfg.BanFor)
		g.bans.Add(1)
		g.log.Warn("auth source banned", "source", host, "failures", s.failures, "window", g.cfg.Window, "ban_for", g.cfg.BanFor)
	case s.failures == g.cfg.ThrottleAfter:
		s.throttled = true
		g.log.Warn("auth source throttled", "source", host, "failures", s.failures, "window", g.cfg.Window)
	}
}

// Succeed forgets the failures of host after a good authentication.
func (g *Guard) Succeed(host string) {
	host = sourcekey.Of(host)
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.sources[host]; s != nil && s.bannedUntil.IsZero() {
		g.endThrottleLocked(host, s)
		delete(g.sources, host)
	}
}

func (g *Guard) endThrottleLocked(host string, s *source) {
	if s.throttled {
		g.log.Info("auth throttle ended", "source", host, "refused_while_throttled", s.refused)
	}
}

func (g *Guard) sweepLocked(now time.Time) {
	for k, s := range g.sources {
		if s.bannedUntil.IsZero() && now.Sub(s.windowStart) > g.cfg.Window ||
			!s.bannedUntil.IsZero() && now.After(s.bannedUntil) {
			delete(g.sources, k)
		}
	}
}
