package rtpep

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
)

// testPool returns a pool of pairs ports whose ports are all free now,
// below the Linux ephemeral range so port-0 sockets do not land in it.
func testPool(t *testing.T, pairs int) *PortPool {
	t.Helper()
	for range 50 {
		lo := 20000 + 2*rand.IntN(5000)
		if !portsFree(lo, lo+2*pairs-1) {
			continue
		}
		p, err := NewPortPool(lo, lo+2*pairs-1)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Fatal("no free port range in 50 tries")
	return nil
}

func portsFree(lo, hi int) bool {
	for port := lo; port <= hi; port++ {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(testIP), uint16(port))))
		if err != nil {
			return false
		}
		_ = c.Close()
	}
	return true
}

func TestNewPortPool(t *testing.T) {
	tests := []struct {
		lo, hi int
		pairs  int // 0: error
	}{
		{10000, 10001, 1},
		{10000, 10009, 5},
		{10001, 10010, 4}, // 10002..10009 + 10010 without its RTCP port
		{65534, 65535, 1},
		{0, 100, 0},
		{100, 50, 0},
		{100, 100, 0},
		{101, 102, 0},
		{65535, 70000, 0},
	}
	for _, tt := range tests {
		p, err := NewPortPool(tt.lo, tt.hi)
		if tt.pairs == 0 {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("NewPortPool(%d, %d) err = %v, want ErrConfig", tt.lo, tt.hi, err)
			}
			continue
		}
		if err != nil || p.Size() != tt.pairs {
			t.Errorf("NewPortPool(%d, %d) = %v pairs, %v; want %d", tt.lo, tt.hi, p, err, tt.pairs)
		}
	}
}

func TestPortPoolReserve(t *testing.T) {
	p, err := NewPortPool(30000, 30005) // 30000, 30002, 30004
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for range 3 {
		port, ok := p.reserve()
		if !ok {
			t.Fatal("reserve failed")
		}
		got[port] = true
	}
	if !got[30000] || !got[30002] || !got[30004] {
		t.Fatalf("reserved %v, want every pair once", got)
	}
	if _, ok := p.reserve(); ok {
		t.Fatal("reserved beyond the pool")
	}
	p.release(30002)
	if port, ok := p.reserve(); !ok || port != 30002 {
		t.Fatalf("the one free pair: %d, %v", port, ok)
	}
	p.release(12345) // not ours: ignored
	if p.InUse() != 3 {
		t.Fatalf("InUse = %d", p.InUse())
	}
}

// TestPortPoolUnpredictable: consecutive calls do not get consecutive
// ports, so a call's port says nothing about the next one's.
func TestPortPoolUnpredictable(t *testing.T) {
	p, err := NewPortPool(10000, 19999)
	if err != nil {
		t.Fatal(err)
	}
	prev, _ := p.reserve()
	next := 0
	for range 20 {
		port, _ := p.reserve()
		if port == prev+2 {
			next++
		}
		prev = port
	}
	// Random starts in 5,000 pairs: a sequential allocator scores 20.
	if next > 2 {
		t.Errorf("%d of 20 ports followed the previous one", next)
	}
}

// TestPortPoolEndpoints: a port another program holds is skipped, an
// exhausted pool says so, and freed ports come back. Other test binaries
// run at the same time and may bind a port of the range between testPool's
// check and ours; such an attempt is retried on a fresh range, a bounded
// number of times.
func TestPortPoolEndpoints(t *testing.T) {
	var err error
	for range 5 {
		if err = portPoolScenario(t); !errors.Is(err, errInterfered) {
			break
		}
		t.Log(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var errInterfered = errors.New("another program bound a port of the test range")

func portPoolScenario(t *testing.T) error {
	pool := testPool(t, 3)
	ip := netip.MustParseAddr(testIP)
	var open []*Endpoint
	defer func() {
		for _, e := range open {
			_ = e.Close()
		}
	}()
	endpoint := func() (*Endpoint, error) {
		e, err := New(Config{IP: testIP, Ports: pool}, nil)
		if errors.Is(err, ErrPortsExhausted) {
			return nil, fmt.Errorf("%w: %w", errInterfered, err)
		}
		if err != nil {
			return nil, err
		}
		open = append(open, e)
		return e, nil
	}
	// Another program holds the first RTP port: it is skipped.
	busy, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(pool.first))))
	if err != nil {
		return fmt.Errorf("%w: %w", errInterfered, err)
	}
	defer func() { _ = busy.Close() }()
	e1, err := endpoint()
	if err != nil {
		return err
	}
	e2, err := endpoint()
	if err != nil {
		return err
	}
	if p1, p2 := e1.LocalAddr().Port, e2.LocalAddr().Port; p1 == pool.first || p2 == pool.first || p1 == p2 {
		return fmt.Errorf("ports %d %d: want the two pairs other than the busy %d", p1, p2, pool.first)
	}
	if _, err := New(Config{IP: testIP, Ports: pool}, nil); !errors.Is(err, ErrPortsExhausted) {
		return fmt.Errorf("exhausted pool: %v, want ErrPortsExhausted", err)
	}
	// Freeing the busy port and an endpoint makes room again.
	_ = busy.Close()
	freed := e1.LocalAddr().Port
	if err := e1.Close(); err != nil {
		return err
	}
	e3, err := endpoint()
	if err != nil {
		return err
	}
	e4, err := endpoint()
	if err != nil {
		return err
	}
	if p3, p4 := e3.LocalAddr().Port, e4.LocalAddr().Port; !(p3 == pool.first && p4 == freed) && !(p3 == freed && p4 == pool.first) {
		return fmt.Errorf("ports %d %d, want %d and %d", p3, p4, pool.first, freed)
	}
	if pool.InUse() != 3 {
		return fmt.Errorf("InUse = %d", pool.InUse())
	}
	return nil
}
