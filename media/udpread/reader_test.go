package udpread

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestReaderDeliversAndEnds: datagrams (more than a burst, from an IPv4
// and an IPv6 loopback sender) reach the handler whole with their
// source; a passed read deadline calls onTimeout and reading goes on;
// Close ends Run with nil.
func TestReaderDeliversAndEnds(t *testing.T) {
	for _, network := range []struct{ net, ip string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}} {
		t.Run(network.net, func(t *testing.T) {
			conn, err := net.ListenUDP(network.net, &net.UDPAddr{IP: net.ParseIP(network.ip)})
			if err != nil {
				t.Skipf("no %s loopback: %v", network.net, err)
			}
			peer, err := net.ListenUDP(network.net, &net.UDPAddr{IP: net.ParseIP(network.ip)})
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			var mu sync.Mutex
			var got [][]byte
			var froms []netip.AddrPort
			var bufs Buffers
			r := NewReader(conn, &bufs, func(pkt []byte, from netip.AddrPort) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, bytes.Clone(pkt))
				froms = append(froms, from)
			})
			timeouts := make(chan struct{}, 1)
			if err := conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				done <- r.Run(func() {
					_ = conn.SetReadDeadline(time.Time{})
					timeouts <- struct{}{}
				})
			}()
			select {
			case <-timeouts:
			case <-time.After(5 * time.Second):
				t.Fatal("the read deadline did not call onTimeout")
			}
			const n = 3*burst + 2
			to := conn.LocalAddr().(*net.UDPAddr)
			for i := range n {
				if _, err := peer.WriteToUDP([]byte{byte(i), 1, 2, 3}, to); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				mu.Lock()
				c := len(got)
				mu.Unlock()
				if c == n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d datagrams handled, want %d", c, n)
				}
				time.Sleep(5 * time.Millisecond)
			}
			want := peer.LocalAddr().(*net.UDPAddr).AddrPort()
			want = netip.AddrPortFrom(want.Addr().Unmap(), want.Port())
			mu.Lock()
			for i := range n {
				if !bytes.Equal(got[i], []byte{byte(i), 1, 2, 3}) || froms[i] != want {
					t.Errorf("datagram %d: %x from %v, want %x from %v", i, got[i], froms[i], []byte{byte(i), 1, 2, 3}, want)
				}
			}
			mu.Unlock()
			_ = conn.Close()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run after Close: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return after Close")
			}
		})
	}
}

// TestDrainAllocatesNothing: reading a datagram into a pooled buffer
// allocates nothing.
func TestDrainAllocatesNothing(t *testing.T) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer, err := net.DialUDP("udp4", nil, conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	var bufs Buffers
	handled := 0
	r := NewReader(conn, &bufs, func([]byte, netip.AddrPort) { handled++ })
	rc, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	read := func(fd uintptr) bool {
		n, _ := r.Drain(int(fd))
		return n > 0
	}
	pkt := make([]byte, 172)
	step := func() {
		if _, err := peer.Write(pkt); err != nil {
			t.Fatal(err)
		}
		if err := rc.Read(read); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocs per datagram", n)
	}
	if handled < 200 {
		t.Errorf("%d datagrams handled", handled)
	}
}
