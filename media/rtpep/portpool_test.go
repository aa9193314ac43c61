package rtpep

import (
	"errors"
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
	t.Skip("no free port range found")
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

func TestPortPoolRoundRobin(t *testing.T) {
	p, err := NewPortPool(30000, 30005) // 30000, 30002, 30004
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 3 {
		port, ok := p.reserve()
		if !ok {
			t.Fatal("reserve failed")
		}
		got = append(got, port)
	}
	if _, ok := p.reserve(); ok {
		t.Fatal("reserved beyond the pool")
	}
	p.release(30002)
	p.release(30000)
	// The cursor wrapped: 30000 is next, then 30002.
	a, _ := p.reserve()
	b, _ := p.reserve()
	if got[0] != 30000 || got[1] != 30002 || got[2] != 30004 || a != 30000 || b != 30002 {
		t.Fatalf("order %v then %d %d", got, a, b)
	}
	p.release(12345) // not ours: ignored
	if p.InUse() != 3 {
		t.Fatalf("InUse = %d", p.InUse())
	}
}

func TestPortPoolEndpoints(t *testing.T) {
	pool := testPool(t, 3)
	ip := netip.MustParseAddr(testIP)
	// Another program holds the first RTP port: it is skipped.
	busy, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(pool.first))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	e1 := newTestEndpoint(t, Config{Ports: pool})
	e2 := newTestEndpoint(t, Config{Ports: pool})
	if e1.LocalAddr().Port != pool.first+2 || e2.LocalAddr().Port != pool.first+4 {
		t.Fatalf("ports %d %d, want %d %d", e1.LocalAddr().Port, e2.LocalAddr().Port, pool.first+2, pool.first+4)
	}
	if _, err := New(Config{IP: testIP, Ports: pool}, nil); !errors.Is(err, ErrPortsExhausted) {
		t.Fatalf("exhausted pool: %v, want ErrPortsExhausted", err)
	}
	// Freeing the busy port and an endpoint makes room again, round robin.
	_ = busy.Close()
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}
	// The failed attempt left the cursor after the first pair.
	e3 := newTestEndpoint(t, Config{Ports: pool})
	if e3.LocalAddr().Port != pool.first+2 {
		t.Fatalf("next port %d, want %d", e3.LocalAddr().Port, pool.first+2)
	}
	e4 := newTestEndpoint(t, Config{Ports: pool})
	if e4.LocalAddr().Port != pool.first {
		t.Fatalf("next port %d, want %d", e4.LocalAddr().Port, pool.first)
	}
	if pool.InUse() != 3 {
		t.Fatalf("InUse = %d", pool.InUse())
	}
}
