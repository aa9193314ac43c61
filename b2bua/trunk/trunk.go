package trunk

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Trunk is one configured carrier and the state of its registration and
// keepalive. Its Config never changes: Apply replaces the Trunk.
type Trunk struct {
	cfg     Config
	opt     *Options
	sources []source
	log     *slog.Logger

	done sync.WaitGroup

	mu      sync.Mutex
	cancel  context.CancelFunc // set by start; stopped: a start after stop does nothing
	stopped bool
	addrs   []netip.Addr // the host's addresses, as last resolved
	reg     Registration
	reach   Reachability
}

// Registration is the state of an outbound registration.
type Registration struct {
	State   string    // "off", "registering", "registered", "failing"
	Reason  string    // the last failure, or the last refusal
	Expires time.Time // when the registration lapses (registered)
	Since   time.Time
}

// Reachability is what the OPTIONS keepalive found.
type Reachability struct {
	State  string // "off", "unknown", "up", "down"
	Reason string // why down
	Since  time.Time
}

// Status is a trunk's state, for `softswitch trunk status`.
type Status struct {
	Name         string
	Target       string // transport:host:port
	Registration Registration
	Reachability Reachability
}

func newTrunk(c Config, opt *Options) *Trunk {
	t := &Trunk{cfg: c, opt: opt, log: opt.Log.With("trunk", c.Name)}
	for _, a := range c.FromAddresses {
		src, _ := parseSource(a) // checked by Normalize
		t.sources = append(t.sources, src)
	}
	if a, err := netip.ParseAddr(c.Host); err == nil {
		t.addrs = []netip.Addr{a.Unmap()}
	}
	now := time.Now()
	t.reg = Registration{State: "off", Since: now}
	if c.Register {
		t.reg.State = "registering"
	}
	t.reach = Reachability{State: "off", Since: now}
	if c.interval() > 0 {
		t.reach.State = "unknown"
	}
	return t
}

func (t *Trunk) hostPort() string {
	return netipHostPort(t.cfg.Host, t.cfg.Port)
}

func netipHostPort(host string, port int) string {
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// start runs the registration and keepalive loops.
func (t *Trunk) start() {
	var loops []func(context.Context)
	if t.cfg.Register {
		loops = append(loops, t.registerLoop)
	}
	if t.cfg.interval() > 0 {
		loops = append(loops, t.keepaliveLoop)
	}
	if len(loops) == 0 {
		loops = append(loops, t.resolve) // once, to recognise the host's calls
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.mu.Lock()
	if t.stopped || t.cancel != nil {
		t.mu.Unlock()
		cancel()
		return
	}
	t.cancel = cancel
	t.done.Add(len(loops)) // before stop can Wait
	t.mu.Unlock()
	t.log.Info("trunk started", "target", t.cfg.Transport+":"+t.hostPort(), "register", t.cfg.Register,
		"options_interval", t.cfg.interval().String())
	for _, loop := range loops {
		go func() {
			defer t.done.Done()
			loop(ctx)
		}()
	}
}

// stop ends the loops; a registration is removed (Expires: 0) first.
func (t *Trunk) stop() {
	t.mu.Lock()
	t.stopped = true
	cancel := t.cancel
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	t.done.Wait()
}

// owns tells whether a request from src over transport is the
// carrier's; with anyPort, the from_addresses' ports and transports are
// not looked at.
func (t *Trunk) owns(transport string, src netip.AddrPort, anyPort bool) bool {
	addr := src.Addr()
	for i := range t.sources {
		s := &t.sources[i]
		if anyPort && s.prefix.Contains(addr) || s.matches(transport, src) {
			return true
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, a := range t.addrs {
		if a == addr {
			return true
		}
	}
	return false
}

// resolve refreshes the host's addresses (used to recognise its calls).
func (t *Trunk) resolve(ctx context.Context) {
	if _, err := netip.ParseAddr(t.cfg.Host); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := t.opt.Lookup(ctx, t.cfg.Host)
	if err != nil || len(addrs) == 0 {
		t.log.Warn("trunk host does not resolve; keeping its last addresses", "host", t.cfg.Host, "error", err)
		return
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	t.mu.Lock()
	t.addrs = addrs
	t.mu.Unlock()
}

func (t *Trunk) isUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reach.State != "down"
}

func (t *Trunk) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Status{Name: t.cfg.Name, Target: t.cfg.Transport + ":" + t.hostPort(), Registration: t.reg, Reachability: t.reach}
}

// setReg records a registration state, logging changes.
func (t *Trunk) setReg(state, reason string, expires time.Time) {
	t.mu.Lock()
	prev := t.reg
	t.reg.State, t.reg.Reason, t.reg.Expires = state, reason, expires
	if prev.State != state {
		t.reg.Since = time.Now()
	}
	t.mu.Unlock()
	switch {
	case state == "registered" && prev.State != state:
		t.log.Info("trunk registered", "expires", time.Until(expires).Round(time.Second).String())
	case state == "failing" && (prev.State != state || prev.Reason != reason):
		t.log.Warn("trunk registration failing", "reason", reason)
	}
}

// setReach records a keepalive result, logging changes.
func (t *Trunk) setReach(up bool, reason string) {
	state := "down"
	if up {
		state, reason = "up", ""
	}
	t.mu.Lock()
	prev := t.reach.State
	if prev != state {
		t.reach = Reachability{State: state, Reason: reason, Since: time.Now()}
	} else {
		t.reach.Reason = reason
	}
	t.mu.Unlock()
	switch {
	case prev == state:
	case up:
		t.log.Info("trunk up")
	default:
		t.log.Warn("trunk down", "reason", reason)
	}
}

// sleep waits d or until ctx ends; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
