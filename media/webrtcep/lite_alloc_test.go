//go:build !race

package webrtcep

import (
	"math"
	"net"

	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// TestLiteNoAllocsPerFrame: the lite engine's media path allocates
// nothing per frame: a frame written to the audio sink is encoded,
// SRTP-protected and sent on the socket; an SRTP packet is demultiplexed,
// decrypted, decoded and written out. (Allocation counts differ under
// the race detector: this file is built without it.)
func TestLiteNoAllocsPerFrame(t *testing.T) {
	key, salt := make([]byte, 16), make([]byte, 14)
	for i := range key {
		key[i] = byte(3 * i)
	}
	for _, rate := range []int{8000, 48000} {
		fac, _ := newTestFactory(t)
		c, e, peer := liteFuzzFixture(t, fac, key, salt)
		if err := e.SetRate(rate); err != nil {
			t.Fatal(err)
		}
		sinkConn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sinkConn.Close() })
		dest := sinkConn.LocalAddr().(*net.UDPAddr).AddrPort()
		c.peer.Store(&dest)
		tx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
		if err != nil {
			t.Fatal(err)
		}
		c.tx.Store(tx)
		ch, _ := chooseSend(registeredCodecs())
		e.s.SetSend(ch.send)
		bound := true
		e.setSending(nil, &bound)
		pcm := make([]int16, rate/50)
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		}
		sink := e.AudioSink()
		send := func() {
			if err := sink.WriteFrame(pcm); err != nil {
				t.Fatal(err)
			}
		}
		send()
		if n := testing.AllocsPerRun(200, send); n != 0 {
			t.Errorf("send path at %d Hz: %v allocs per frame", rate, n)
		}
		if s := e.Stats(); s.PacketsSent < 200 {
			t.Errorf("sent %d packets", s.PacketsSent)
		}

		// Receiving: SRTP packets from the selected peer, encrypted before.
		enc, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
		if err != nil {
			t.Fatal(err)
		}
		payloads := opusPackets(t, 50)
		var pkts [][]byte
		for i := range 260 {
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(i), Timestamp: uint32(i) * 960, SSRC: 0xabcd},
				Payload: payloads[i%len(payloads)]}
			plain, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			sp, err := enc.EncryptRTP(nil, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, sp)
		}
		from := peer
		c.peer.Store(&from)
		k := 0
		step := func() {
			c.handle(pkts[k], from) // decrypted in place: each packet once
			k++
		}
		for range 10 {
			step()
		}
		if n := testing.AllocsPerRun(200, step); n != 0 {
			t.Errorf("receive path at %d Hz: %v allocs per frame", rate, n)
		}
		if s := e.Stats(); s.Decoded < 200 || s.Dropped != 0 {
			t.Errorf("decoded %d frames, dropped %d", s.Decoded, s.Dropped)
		}
	}
}

// TestLiteVideoNoAllocsPerPacket: relaying a video packet (decrypt,
// payload type and SSRC rewritten, encrypt for the other leg, send)
// allocates nothing.
func TestLiteVideoNoAllocsPerPacket(t *testing.T) {
	p := newRelayPair(t)
	var pkts [][]byte
	for i := range 300 {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: uint16(i + 1), Timestamp: uint32(i) * 3000, SSRC: 0xabc},
			Payload: make([]byte, 1000)}
		plain, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		sp, err := p.enc.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, sp)
	}
	k := 0
	step := func() {
		p.a.lite.handle(pkts[k], p.from)
		k++
	}
	for range 10 {
		step()
	}
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("video relay: %v allocs per packet", n)
	}
	if st := p.b.VideoStats(); st.Sent < 200 {
		t.Errorf("relayed %d packets: %+v", st.Sent, st)
	}
}
