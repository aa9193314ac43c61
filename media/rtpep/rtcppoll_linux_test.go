package rtpep

import (
	"net"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
)

// TestRTCPPollerSharedByThePool: the endpoints of a port pool read RTCP
// on one goroutine between them, each gets its own reports, and the
// goroutine ends with the last endpoint (a new one starts it again).
func TestRTCPPollerSharedByThePool(t *testing.T) {
	pool := testPool(t, 8)
	const n = 5
	eps := make([]*Endpoint, n)
	for i := range eps {
		e, err := New(Config{IP: testIP, Ports: pool}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		eps[i] = e
	}
	waitFor(t, 5*time.Second, "one poller goroutine", func() bool {
		return audiotest.GoroutinesIn("rtpep.(*rtcpPoller).loop") == 1
	})
	if g := audiotest.GoroutinesIn("rtpep.(*Endpoint).receiveRTCP"); g != 0 {
		t.Fatalf("%d endpoints read RTCP on a goroutine of their own, want 0", g)
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 7} // a receiver report with no blocks
	for i, e := range eps {
		to := &net.UDPAddr{IP: net.ParseIP(testIP), Port: e.LocalAddr().Port + 1}
		for range i + 1 { // endpoint i gets i+1 reports
			if _, err := c.WriteToUDP(rr, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, e := range eps {
		waitFor(t, 5*time.Second, "the reports", func() bool { return e.Stats().RTCPReceived == uint64(i+1) })
	}
	// Closing one leaves the others polled.
	if err := eps[0].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDP(rr, &net.UDPAddr{IP: net.ParseIP(testIP), Port: eps[1].LocalAddr().Port + 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a report after another endpoint closed", func() bool { return eps[1].Stats().RTCPReceived == 3 })
	for _, e := range eps[1:] {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Close waited for the loop's done channel; the goroutine itself may
	// still be returning (its deferred close is its last act).
	waitFor(t, 5*time.Second, "no poller goroutine after the last endpoint closed", func() bool {
		return audiotest.GoroutinesIn("rtpep.(*rtcpPoller).loop") == 0
	})
	e, err := New(Config{IP: testIP, Ports: pool}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := c.WriteToUDP(rr, &net.UDPAddr{IP: net.ParseIP(testIP), Port: e.LocalAddr().Port + 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a report through a poller started again", func() bool { return e.Stats().RTCPReceived == 1 })
}

// TestRTCPPollerChurn: endpoints come and go on a pool from several
// goroutines while reports arrive (run under -race): nothing hangs, and
// no poller goroutine is left after the last.
func TestRTCPPollerChurn(t *testing.T) {
	pool := testPool(t, 16)
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(testIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 7}
	done := make(chan error, 4)
	for range 4 {
		go func() {
			for range 25 {
				e, err := New(Config{IP: testIP, Ports: pool}, nil)
				if err != nil {
					done <- err
					return
				}
				to := &net.UDPAddr{IP: net.ParseIP(testIP), Port: e.LocalAddr().Port + 1}
				for range 3 {
					_, _ = c.WriteToUDP(rr, to)
				}
				_ = e.Close()
			}
			done <- nil
		}()
	}
	for range 4 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("endpoints did not come and go in 30 s")
		}
	}
	waitFor(t, 5*time.Second, "no poller goroutine left", func() bool {
		return audiotest.GoroutinesIn("rtpep.(*rtcpPoller).loop") == 0
	})
}
