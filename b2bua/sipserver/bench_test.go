package sipserver

import (
	"log/slog"
	"net"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// What the read filter costs a REGISTER (issue 20): without credentials it
// is parsed once and answered statelessly (the hook's 401, sent on a
// recording socket); with them it is checked and passed on to sipgo.
func BenchmarkFilterRegister(b *testing.B) {
	s, err := New(Config{RateLimit: RateLimits{Register: RateLimit{Rate: 1e9, Burst: 1e9}}}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetStateless(func(req *sip.Request) *sip.Response {
		if req.GetHeader("authorization") != nil {
			return nil
		}
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="softswitch", nonce="AAAAAGS4ZxR3c2Vkxxxxxxxxxxxxxxxxxxxxxx", algorithm=MD5, qop="auth"`))
		return res
	})
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	conn := &recordConn{}
	s.udp[local.String()] = conn
	props := sip.TransportReadProps{Transport: "UDP", LocalAddr: local, RemoteAddr: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 20), Port: 5060}}
	signed := []byte(clientMessages[2]) // baresip's REGISTER with Authorization
	unsigned := []byte("REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK6f5e4a3b;rport\r\n" +
		"Contact: <sip:1002-0x55d1@192.0.2.20:5060>;expires=3600\r\nMax-Forwards: 70\r\nTo: <sip:1002@192.0.2.1>\r\n" +
		"From: <sip:1002@192.0.2.1>;tag=9a8b7c6d5e4f\r\nCall-ID: 4d2f4a1b6c7e8f90\r\nCSeq: 1 REGISTER\r\n" +
		"User-Agent: baresip v1.0.0 (x86_64/linux)\r\nContent-Length: 0\r\n\r\n")
	b.Run("challenged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			conn.sent = conn.sent[:0]
			if out, _ := s.filter.read(props, unsigned); out != nil || len(conn.sent) != 1 {
				b.Fatalf("passed on, or answered %d times", len(conn.sent))
			}
		}
	})
	b.Run("signed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out, _ := s.filter.read(props, signed); out == nil {
				b.Fatal("not passed on")
			}
		}
	})
}
