package sipserver

import (
	"hash/fnv"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/sourcekey"
)

// RateLimit is a token bucket: Rate requests a second on average, Burst at
// once. A zero field means the default; a negative Rate turns limiting off.
type RateLimit struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// RateLimits limits out-of-dialog INVITE and REGISTER requests per source
// IP address, as Kamailio's pike module does for all requests (its default,
// 30 requests in 2 s, is close to ours for INVITE). Over the limit a
// request gets a stateless 503 with Retry-After: no transaction is kept for
// it. Each INVITE counts, so a call that answers a 407 challenge costs two.
type RateLimits struct {
	Invite   RateLimit `yaml:"invite"`   // default 20/s, burst 40
	Register RateLimit `yaml:"register"` // default 50/s, burst 100
	// MaxSources bounds the sources tracked; default 65536. Beyond it (a
	// flood from spoofed addresses) new sources are let through untracked.
	MaxSources int `yaml:"max_sources"`
}

// Defaults of RateLimits.
var (
	DefaultInviteLimit   = RateLimit{Rate: 20, Burst: 40}
	DefaultRegisterLimit = RateLimit{Rate: 50, Burst: 100}
)

const (
	// dedupWindow is how long an admitted request is remembered, so its
	// retransmissions (RFC 3261 §17: up to 64*T1) are not counted again.
	dedupWindow = 64 * 500 * time.Millisecond
	dedupSlots  = 16 // admitted requests remembered per source and method
	// sweepEvery is how often idle sources are forgotten.
	sweepEvery = 30 * time.Second
	// logEvery is how often a limited source is logged.
	logEvery = time.Minute
)

func (r RateLimit) withDefault(d RateLimit) RateLimit {
	if r.Rate == 0 {
		r.Rate = d.Rate
	}
	if r.Burst <= 0 {
		r.Burst = max(d.Burst, int(math.Ceil(r.Rate)))
	}
	return r
}

// limiter applies RateLimits. It is safe for concurrent use.
type limiter struct {
	limits map[sip.RequestMethod]RateLimit
	max    int
	log    *slog.Logger
	now    func() time.Time

	// exempt, when set, names sources the limits do not apply to (the
	// carriers: a trunk's call volume is not a flood).
	exempt atomic.Pointer[func(host string) bool]

	// refusedInvite and refusedRegister count refusals since start.
	refusedInvite, refusedRegister atomic.Uint64

	mu        sync.Mutex
	buckets   map[bucketKey]*bucket
	lastSweep time.Time
	full      bool // logged that MaxSources was reached
}

type bucketKey struct {
	host   string
	method sip.RequestMethod
}

type bucket struct {
	tokens  float64
	last    time.Time // of the last refill
	seen    [dedupSlots]admitted
	next    int
	refused int // since the last log line
	logged  time.Time
}

type admitted struct {
	id uint64
	at time.Time
}

func newLimiter(cfg RateLimits, log *slog.Logger) *limiter {
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = 65536
	}
	return &limiter{
		limits: map[sip.RequestMethod]RateLimit{
			sip.INVITE:   cfg.Invite.withDefault(DefaultInviteLimit),
			sip.REGISTER: cfg.Register.withDefault(DefaultRegisterLimit),
			// MESSAGE has the INVITE limit, in a bucket of its own.
			sip.MESSAGE: cfg.Invite.withDefault(DefaultInviteLimit),
		},
		max: cfg.MaxSources, log: log, now: time.Now,
		buckets: make(map[bucketKey]*bucket),
	}
}

// applies reports whether the limiter counts req: an out-of-dialog INVITE,
// or any REGISTER (it never belongs to a dialog: a To tag on one must not
// get it past the limit).
func (l *limiter) applies(req *sip.Request) bool {
	lim, ok := l.limits[req.Method]
	return ok && lim.Rate > 0 && (req.Method == sip.REGISTER || !inDialog(req))
}

// allow takes a token for a request of method from host. id identifies the
// request for retransmission matching (0: do not match, as on a reliable
// transport). It returns false with the seconds to wait when over the limit.
func (l *limiter) allow(host string, method sip.RequestMethod, id uint64) (bool, int) {
	if ex := l.exempt.Load(); ex != nil && (*ex)(host) {
		return true, 0
	}
	lim := l.limits[method]
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweepLocked(now)
	}
	k := bucketKey{sourcekey.Of(host), method} // an IPv6 /64 is one source
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.sweepLocked(now)
			if len(l.buckets) >= l.max {
				if !l.full {
					l.full = true
					l.log.Warn("rate limiter full: new sources pass unlimited", "max_sources", l.max)
				}
				return true, 0
			}
		}
		b = &bucket{tokens: float64(lim.Burst), last: now}
		l.buckets[k] = b
	}
	if id != 0 {
		for _, s := range b.seen {
			if s.id == id && now.Sub(s.at) < dedupWindow {
				return true, 0 // a retransmission: sipgo's transaction absorbs it
			}
		}
	}
	b.tokens = min(float64(lim.Burst), b.tokens+now.Sub(b.last).Seconds()*lim.Rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		if id != 0 {
			b.seen[b.next] = admitted{id, now}
			b.next = (b.next + 1) % dedupSlots
		}
		return true, 0
	}
	b.refused++
	switch method {
	case sip.INVITE:
		l.refusedInvite.Add(1)
	case sip.REGISTER:
		l.refusedRegister.Add(1)
	}
	if now.Sub(b.logged) >= logEvery {
		l.log.Warn("request rate limited", "source", host, "method", method, "refused", b.refused,
			"rate", lim.Rate, "burst", lim.Burst)
		b.logged, b.refused = now, 0
	}
	return false, max(1, int(math.Ceil((1-b.tokens)/lim.Rate)))
}

// sweepLocked forgets the sources whose bucket has refilled and whose
// admitted requests are too old to be retransmitted: they are as new.
func (l *limiter) sweepLocked(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		lim := l.limits[k.method]
		refill := time.Duration(float64(lim.Burst) / lim.Rate * float64(time.Second))
		if idle := now.Sub(b.last); idle < dedupWindow || idle < refill {
			continue
		}
		if b.refused > 0 {
			l.log.Info("request rate limit ended", "source", k.host, "method", k.method, "refused", b.refused)
		}
		delete(l.buckets, k)
	}
	if len(l.buckets) < l.max {
		l.full = false
	}
}

// sources is how many buckets are kept, for tests.
func (l *limiter) sources() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// requestID identifies a request and its retransmissions (RFC 3261
// §17.2.3: the top Via branch, with the CSeq and Call-ID for clients that
// reuse branches).
func requestID(req *sip.Request) uint64 {
	h := fnv.New64a()
	if via := req.Via(); via != nil {
		b, _ := via.Params.Get("branch")
		_, _ = h.Write([]byte(b))
		_, _ = h.Write([]byte(via.Host))
	}
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(req.CSeq().Value()))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(req.CallID().Value()))
	return h.Sum64() | 1 // never 0
}
