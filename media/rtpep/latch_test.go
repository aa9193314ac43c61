package rtpep

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestThirdPartyCannotHijack: a third party spraying the call's port from
// another address, before and during the call, never receives its audio
// and never silences the real peer (issue 12: RTP hijack by latching).
func TestThirdPartyCannotHijack(t *testing.T) {
	e := newTestEndpoint(t, Config{})
	phone := newRawPeer(t)
	attacker, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Close()
	if _, err := e.Answer(context.Background(), offerSDP(testIP, fmt.Sprintf("m=audio %d RTP/AVP 0", phone.port()))); err != nil {
		t.Fatal(err)
	}
	out := &capture{}
	e.SetAudioOutput(out)
	spray := func(seq uint16) {
		if _, err := attacker.WriteToUDPAddrPort(rtpPacket(0, seq, uint32(seq)*160, 0xbad, make([]byte, 160)), e.local); err != nil {
			t.Fatal(err)
		}
	}
	frame := make([]int16, 160)
	for i := range uint16(20) {
		spray(i) // first, before the phone
		if _, err := phone.conn.WriteToUDPAddrPort(rtpPacket(0, 100+i, uint32(i)*160, 0x600d, make([]byte, 160)), e.local); err != nil {
			t.Fatal(err)
		}
		spray(1000 + i)
		if err := e.AudioSink().WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, time.Second, "the phone's packets", func() bool { return e.Stats().PacketsReceived == 20 })
	waitFor(t, time.Second, "the attacker's packets refused", func() bool { return e.Stats().Stray == 40 })
	_ = attacker.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _, err := attacker.ReadFrom(make([]byte, 1500)); err == nil {
		t.Fatalf("the attacker received %d bytes of the call", n)
	}
	got := 0
	for phone.read(200*time.Millisecond) != nil {
		got++
	}
	if got != 20 {
		t.Errorf("the phone got %d of our 20 packets", got)
	}
	if f, _ := out.counts(); f != 20 {
		t.Errorf("%d frames of the phone's audio reached the output, want 20", f)
	}
}

// TestLatchRules: which sources latch, for the addresses a NAT'd or a
// public peer writes in its SDP.
func TestLatchRules(t *testing.T) {
	ap := netip.MustParseAddrPort
	type step struct {
		src    string
		at     time.Duration
		accept bool
	}
	tests := []struct {
		name   string
		local  string // our media address
		sdp    string // the peer's SDP address
		signal string // where the peer's SIP comes from, "" unknown
		steps  []step
	}{
		{"public peer: only its SDP address", "198.51.100.1", "203.0.113.5:4000", "", []step{
			{"198.18.0.9:5000", 0, false}, {"203.0.113.5:4000", 10, true}, {"198.18.0.9:5000", 5000, false}}},
		{"public peer: its host with a port a NAT rewrote", "198.51.100.1", "203.0.113.5:4000", "", []step{
			{"203.0.113.5:6000", 0, true}, {"198.18.0.9:5000", 20, false}, {"203.0.113.5:4000", 40, true}, {"203.0.113.5:6000", 60, false}}},
		{"peer behind a NAT: learn its public source", "198.51.100.1", "192.168.1.10:4000", "", []step{
			{"203.0.113.7:31000", 0, true}, {"198.18.0.9:5000", 20, false}, {"203.0.113.7:31000", 40, true}}},
		{"learned source silent: another may take over", "198.51.100.1", "10.0.0.3:4000", "", []step{
			{"203.0.113.7:31000", 0, true}, {"203.0.113.8:32000", 1000, false}, {"203.0.113.8:32000", 3000, true}, {"203.0.113.7:31000", 3020, false}}},
		{"both on a private network: strict", "10.0.0.1", "10.0.0.3:4000", "", []step{
			{"10.0.0.9:4000", 0, false}, {"10.0.0.3:4000", 20, true}}},
		{"carrier-grade NAT address", "198.51.100.1", "100.64.1.2:4000", "", []step{{"203.0.113.7:31000", 0, true}}},
		{"peer behind a NAT: a stranger waits, its SIP host is learned", "198.51.100.1", "192.168.1.10:4000", "203.0.113.7", []step{
			{"198.18.0.9:5000", 0, false}, {"203.0.113.7:31000", 20, true}, {"198.18.0.9:5000", 40, false}, {"203.0.113.7:31000", 60, true},
			{"198.18.0.9:5000", 1500, false}}},
		{"peer behind a NAT, its SIP host silent: a stranger is learned after a while", "198.51.100.1", "192.168.1.10:4000", "203.0.113.7", []step{
			{"198.18.0.9:5000", 0, false}, {"198.18.0.9:5000", 500, false}, {"198.18.0.9:5000", 1000, true},
			{"203.0.113.7:31000", 1020, true}, {"198.18.0.9:5000", 1040, false}}},
		{"peer behind a NAT, its SIP host silent: strangers taking turns are never learned", "198.51.100.1", "192.168.1.10:4000", "203.0.113.7", []step{
			{"198.18.0.9:5000", 0, false}, {"198.18.0.8:5000", 1100, false}, {"198.18.0.9:5000", 1200, false},
			{"198.18.0.9:5000", 2100, false}, {"198.18.0.9:5000", 2200, true}}},
		{"peer behind a NAT, its SIP host private: no wait", "198.51.100.1", "192.168.1.10:4000", "10.1.1.1", []step{
			{"198.18.0.9:5000", 0, true}}},
		{"peer behind a NAT: its SDP address takes over from its SIP host", "198.51.100.1", "192.168.1.10:4000", "203.0.113.7", []step{
			{"203.0.113.7:31000", 0, true}, {"192.168.1.10:4000", 20, true}, {"203.0.113.7:31000", 40, false}}},
		{"peer behind a NAT, silent: another may take over", "198.51.100.1", "192.168.1.10:4000", "203.0.113.7", []step{
			{"203.0.113.7:31000", 0, true}, {"198.18.0.9:5000", 1000, false}, {"198.18.0.9:5000", 3000, true}}},
		{"SIP host irrelevant for a public SDP address", "198.51.100.1", "203.0.113.5:4000", "203.0.113.7", []step{
			{"203.0.113.7:31000", 0, false}, {"203.0.113.5:4000", 20, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p peer
			var signal netip.Addr
			if tt.signal != "" {
				signal = netip.MustParseAddr(tt.signal)
			}
			p.init(netip.MustParseAddr(tt.local), signal)
			d := ap(tt.sdp)
			p.apply(negotiation{dest: d, rtcp: netip.AddrPortFrom(d.Addr(), d.Port()+1)})
			for i, s := range tt.steps {
				accept, _, _ := p.latch(ap(s.src), s.at*time.Millisecond)
				if accept != s.accept {
					t.Errorf("step %d: packet from %s at %d ms accepted %v, want %v", i, s.src, s.at, accept, s.accept)
				}
				if dest := p.cur.Load().dest; accept && dest != ap(s.src) {
					t.Errorf("step %d: sending to %s, want %s", i, dest, s.src)
				}
			}
		})
	}
}

// TestStrayCostsNoAllocation: a sprayer's refused packets take no lock
// and allocate nothing, whether the peer is strict or being learned.
func TestStrayCostsNoAllocation(t *testing.T) {
	for _, sdp := range []string{"203.0.113.5:4000", "192.168.1.10:4000"} {
		var p peer
		p.init(netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("203.0.113.7"))
		d := netip.MustParseAddrPort(sdp)
		p.apply(negotiation{dest: d, rtcp: netip.AddrPortFrom(d.Addr(), d.Port()+1)})
		stranger := netip.MustParseAddrPort("198.18.0.9:5000")
		p.latch(stranger, 0) // noted, for the learning case
		if n := testing.AllocsPerRun(100, func() {
			if accept, _, _ := p.latch(stranger, 10*time.Millisecond); accept {
				t.Fatal("stranger accepted")
			}
		}); n != 0 {
			t.Errorf("SDP %s: %.0f allocations per refused packet", sdp, n)
		}
	}
}
