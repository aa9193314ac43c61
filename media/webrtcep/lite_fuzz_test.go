package webrtcep

import (
	"context"
	"net/netip"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

var fuzzCreds = iceCreds{ufrag: "abcd", pwd: "0123456789abcdefghijkl"}

func fuzzCheck(tb testing.TB, user, pwd string, nominate bool) []byte {
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(user)}
	if nominate {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrUseCandidate})
	}
	setters = append(setters, stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		tb.Fatal(err)
	}
	return m.Raw
}

// FuzzAnswerCheck: arbitrary datagrams as connectivity checks never
// panic, and a response is only ever made to a check that carries our
// credentials, with our integrity and a fingerprint the peer can verify.
func FuzzAnswerCheck(f *testing.F) {
	f.Add(fuzzCheck(f, "abcd:peer", fuzzCreds.pwd, true))
	f.Add(fuzzCheck(f, "abcd:peer", fuzzCreds.pwd, false))
	f.Add(fuzzCheck(f, "abcd:peer", "wrong", true))
	f.Add(fuzzCheck(f, "zzzz:peer", fuzzCreds.pwd, true))
	f.Add([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42})
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	f.Fuzz(func(t *testing.T, pkt []byte) {
		resp, _, err := answerCheck(pkt, from, fuzzCreds)
		if err != nil {
			if resp != nil {
				t.Fatal("a response with an error")
			}
			return
		}
		m := &stun.Message{Raw: resp}
		if err := m.Decode(); err != nil {
			t.Fatalf("our response does not decode: %v", err)
		}
		if m.Type != stun.BindingSuccess {
			t.Fatalf("response type %s", m.Type)
		}
		if err := stun.NewShortTermIntegrity(fuzzCreds.pwd).Check(m); err != nil {
			t.Fatalf("response integrity: %v", err)
		}
		if err := stun.Fingerprint.Check(m); err != nil {
			t.Fatalf("response fingerprint: %v", err)
		}
		var u stun.Username
		req := &stun.Message{Raw: append([]byte(nil), pkt...)}
		if req.Decode() != nil || u.GetFrom(req) != nil || len(u.String()) < 5 || u.String()[:5] != "abcd:" {
			t.Fatal("answered a check without our ufrag")
		}
	})
}

// FuzzLiteDatagram runs arbitrary datagrams from the selected peer
// through the lite engine's demultiplexer (STUN, DTLS, SRTP, SRTCP, the
// rest) with SRTP keys installed: it must never panic, and whatever it
// refuses is counted.
func FuzzLiteDatagram(f *testing.F) {
	key, salt := make([]byte, 16), make([]byte, 14)
	for i := range key {
		key[i] = byte(i)
	}
	enc, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range liteSeeds(f, enc) {
		f.Add(s)
	}
	fac, _ := newTestFactory(f)
	c, e, peer := liteFuzzFixture(f, fac, key, salt)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		before := c.dropped.Load() + e.Stats().PacketsReceived + e.rtcpIn.Load()
		if len(pkt) > maxPacket {
			pkt = pkt[:maxPacket]
		}
		c.handle(append([]byte(nil), pkt...), peer) // decrypted in place: not the fuzzer's input
		c.pipe.Drain()
		after := c.dropped.Load() + e.Stats().PacketsReceived + e.rtcpIn.Load()
		if classify(pkt) != classSTUN && classify(pkt) != classDTLS && after == before && classify(pkt) != classRTP {
			t.Fatalf("datagram %x neither handled nor counted", pkt)
		}
	})
}

func liteSeeds(f testing.TB, enc *srtp.Context) [][]byte {
	plain, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1, Timestamp: 960, SSRC: 9},
		Payload: []byte{0xfc, 0xff, 0xfe}}).Marshal()
	if err != nil {
		f.Fatal(err)
	}
	srtpPkt, err := enc.EncryptRTP(nil, plain, nil)
	if err != nil {
		f.Fatal(err)
	}
	rr, _ := (&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 1, FractionLost: 10}}}).Marshal()
	srtcpPkt, err := enc.EncryptRTCP(nil, rr, nil)
	if err != nil {
		f.Fatal(err)
	}
	return [][]byte{srtpPkt, srtcpPkt, fuzzCheck(f, "abcd:peer", fuzzCreds.pwd, true),
		append([]byte{22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 12)...), {0x80}, {0x90, 200, 0, 0}}
}

// liteFuzzFixture is a lite endpoint without its reader, its SRTP
// receive keys installed and the peer selected.
func liteFuzzFixture(f testing.TB, fac *Factory, key, salt []byte) (*liteConn, *Endpoint, netip.AddrPort) {
	e, err := fac.createLite(context.Background()) // no reader: the test feeds it
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close() })
	c := e.lite
	c.local = fuzzCreds
	rx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		f.Fatal(err)
	}
	c.rx.Store(rx)
	peer := netip.MustParseAddrPort("127.0.0.1:9") // discard: our STUN answers go nowhere
	c.peer.Store(&peer)
	c.pipe.SetPeer(peer)
	a, err := audioTable(jssipOffer)
	if err != nil {
		f.Fatal(err)
	}
	e.s.SetReceive(a.table)
	e.SetAudioOutput(discardSink{rate: DefaultRate})
	return c, e, peer
}
