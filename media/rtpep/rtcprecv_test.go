package rtpep

import (
	"net"
	"testing"
	"time"
)

// TestRTCPBurst: more datagrams than one wake-up drains (udpread) all
// arrive, through the port pool's buffers and an endpoint's own; a
// datagram that is not RTCP is not counted.
func TestRTCPBurst(t *testing.T) {
	for _, pool := range []bool{true, false} {
		cfg := Config{IP: testIP}
		if pool {
			cfg.Ports = testPool(t, 1)
		}
		e, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.ParseIP(testIP), Port: e.LocalAddr().Port + 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		// A receiver report with no blocks: version 2, PT 201, length 1.
		rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 7}
		if _, err := c.Write([]byte("not rtcp at all")); err != nil {
			t.Fatal(err)
		}
		const n = 3*16 + 5 // more than three of udpread's bursts
		for range n {
			if _, err := c.Write(rr); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "every report read", func() bool { return e.Stats().RTCPReceived == n })
		time.Sleep(50 * time.Millisecond)
		if got := e.Stats().RTCPReceived; got != n {
			t.Fatalf("pool %v: %d reports counted, want %d", pool, got, n)
		}
	}
}
