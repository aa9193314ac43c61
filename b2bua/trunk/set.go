package trunk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Options are what a Set needs from the rest of the server.
type Options struct {
	Client *sipgo.Client
	// Contact returns our Contact for requests sent over transport; the
	// Set fills in the user.
	Contact func(transport string) sip.ContactHeader
	// FromHost is the host of our From in keepalives (our SIP address).
	FromHost string
	// Prepare, when set, adjusts each request before it is sent (the
	// server makes UDP requests leave from its listening socket).
	Prepare func(req *sip.Request)
	// Lookup resolves a carrier's host name; default net.DefaultResolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// RetryMin is the first retry delay of a failed registration, doubled
	// up to RetryMax; defaults 5s and 5m.
	RetryMin, RetryMax time.Duration
	Log                *slog.Logger
}

// Set holds the configured trunks and runs their registrations and
// keepalives. Apply replaces the configuration while calls go on.
type Set struct {
	opt Options

	mu     sync.Mutex
	trunks map[string]*Trunk
	byName []*Trunk // trunks sorted by name, kept by setTrunks
	closed bool     // by Close: Apply starts nothing more
}

// setTrunks installs m and its name order; s.mu is held. Identify runs
// for every INVITE and REGISTER (the rate limit exempts carriers), so the
// order is kept here rather than sorted per call.
func (s *Set) setTrunks(m map[string]*Trunk) {
	s.trunks = m
	s.byName = s.byName[:0]
	for _, t := range m {
		s.byName = append(s.byName, t)
	}
	sort.Slice(s.byName, func(i, j int) bool { return s.byName[i].cfg.Name < s.byName[j].cfg.Name })
}

// NewSet returns an empty Set; Apply starts trunks.
func NewSet(opt Options) *Set {
	if opt.Lookup == nil {
		opt.Lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if opt.Prepare == nil {
		opt.Prepare = func(*sip.Request) {}
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = 5 * time.Second
	}
	if opt.RetryMax < opt.RetryMin {
		opt.RetryMax = max(5*time.Minute, opt.RetryMin)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Set{opt: opt, trunks: make(map[string]*Trunk)}
}

// Changes says what Apply did, by trunk name.
type Changes struct {
	Added, Changed, Removed, Kept []string
}

func (c Changes) String() string {
	return fmt.Sprintf("%d added, %d changed, %d removed, %d unchanged", len(c.Added), len(c.Changed), len(c.Removed), len(c.Kept))
}

// Apply makes cfgs the configuration: new trunks start, changed ones
// restart (re-registering), removed ones unregister and stop, unchanged
// ones keep their state. Calls in progress are not touched. cfgs is
// checked first; on error nothing changes.
func (s *Set) Apply(cfgs []Config) (Changes, error) {
	cfgs = append([]Config(nil), cfgs...)
	if err := NormalizeAll(cfgs); err != nil {
		return Changes{}, err
	}
	var ch Changes
	var stopping []*Trunk
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return Changes{}, errors.New("trunks: shutting down")
	}
	next := make(map[string]*Trunk, len(cfgs))
	for i := range cfgs {
		c := cfgs[i]
		old := s.trunks[c.Name]
		switch {
		case old != nil && old.cfg.equal(&c):
			next[c.Name] = old
			ch.Kept = append(ch.Kept, c.Name)
			continue
		case old != nil:
			stopping = append(stopping, old)
			ch.Changed = append(ch.Changed, c.Name)
		default:
			ch.Added = append(ch.Added, c.Name)
		}
		next[c.Name] = newTrunk(c, &s.opt)
	}
	for name, t := range s.trunks {
		if next[name] == nil {
			stopping = append(stopping, t)
			ch.Removed = append(ch.Removed, name)
		}
	}
	s.setTrunks(next)
	s.mu.Unlock()
	stopAll(stopping)
	for _, name := range append(ch.Added, ch.Changed...) {
		s.trunk(name).start()
	}
	for _, l := range [][]string{ch.Added, ch.Changed, ch.Removed, ch.Kept} {
		sort.Strings(l)
	}
	return ch, nil
}

// Close unregisters and stops every trunk.
func (s *Set) Close() {
	s.mu.Lock()
	var all []*Trunk
	for _, t := range s.trunks {
		all = append(all, t)
	}
	s.setTrunks(map[string]*Trunk{})
	s.closed = true
	s.mu.Unlock()
	stopAll(all)
}

// stopAll stops trunks in parallel; each unregisters within a few seconds.
func stopAll(ts []*Trunk) {
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.stop()
		}()
	}
	wg.Wait()
}

func (s *Set) trunk(name string) *Trunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trunks[name]
}

// Route returns the configuration of a trunk, for an outbound call.
func (s *Set) Route(name string) (Config, error) {
	t := s.trunk(name)
	if t == nil {
		return Config{}, fmt.Errorf("trunk %q: %w", name, errNoTrunk)
	}
	return t.cfg, nil
}

// Up tells whether a trunk answers its keepalives (true until the first
// one fails, and always for a trunk without keepalives).
func (s *Set) Up(name string) (bool, error) {
	t := s.trunk(name)
	if t == nil {
		return false, fmt.Errorf("trunk %q: %w", name, errNoTrunk)
	}
	return t.isUp(), nil
}

// Identify returns the trunk a request from src over transport ("UDP",
// "TCP", ...) belongs to: one of its from_addresses (with their port and
// transport when they name them), or an address of its host.
func (s *Set) Identify(transport string, src netip.AddrPort) (string, bool) {
	return s.identify(transport, src, false)
}

// FromCarrier tells whether addr is a trunk's, whatever the port and
// transport (the rate limits exempt carriers by address).
func (s *Set) FromCarrier(addr netip.Addr) bool {
	_, ok := s.identify("", netip.AddrPortFrom(addr, 0), true)
	return ok
}

func (s *Set) identify(transport string, src netip.AddrPort, anyPort bool) (string, bool) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.byName { // by name: the same answer every time when trunks overlap
		if t.owns(transport, src, anyPort) {
			return t.cfg.Name, true
		}
	}
	return "", false
}

// Status returns every trunk's state, by name.
func (s *Set) Status() []Status {
	s.mu.Lock()
	out := make([]Status, 0, len(s.byName))
	for _, t := range s.byName {
		out = append(out, t.status())
	}
	s.mu.Unlock()
	return out
}
