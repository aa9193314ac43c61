package sipserver

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// Messages as real clients send them, for the fuzz seeds.
var clientMessages = []string{
	// JsSIP 3.13 REGISTER over WSS
	"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WSS hd3me1ad0lp6.invalid;branch=z9hG4bK8675309\r\nMax-Forwards: 69\r\nTo: <sip:1001@127.0.0.1>\r\nFrom: \"Alice\" <sip:1001@127.0.0.1>;tag=o1tvc0l8d6\r\nCall-ID: rpbg6tu1a3v5m2ln0e2e\r\nCSeq: 1 REGISTER\r\nContact: <sip:9k2lq8b1@hd3me1ad0lp6.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance=\"<urn:uuid:4a7e6b10-2c8c-4d8f-9b1e-2f0d1c3e5a77>\";expires=600\r\nExpires: 600\r\nAllow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\nSupported: path,gruu,outbound\r\nUser-Agent: JsSIP 3.13.8\r\nContent-Length: 0\r\n\r\n",
	// JsSIP INFO DTMF inside a dialog
	"INFO sip:1002@192.0.2.1:5060;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS hd3me1ad0lp6.invalid;branch=z9hG4bK1122\r\nMax-Forwards: 69\r\nTo: <sip:1002@127.0.0.1>;tag=as5f\r\nFrom: <sip:1001@127.0.0.1>;tag=o1tvc0l8d6\r\nCall-ID: c8e1\r\nCSeq: 5 INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 26\r\n\r\nSignal=5\r\nDuration=100\r\n",
	// baresip 1.0 REGISTER over UDP, answering a challenge
	"REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK6f5e4a3b;rport\r\nContact: <sip:1002-0x55d1@192.0.2.20:5060>;expires=3600\r\nMax-Forwards: 70\r\nTo: <sip:1002@192.0.2.1>\r\nFrom: <sip:1002@192.0.2.1>;tag=9a8b7c6d5e4f\r\nCall-ID: 4d2f4a1b6c7e8f90\r\nCSeq: 2 REGISTER\r\nUser-Agent: baresip v1.0.0 (x86_64/linux)\r\nAuthorization: Digest username=\"1002\",realm=\"softswitch\",nonce=\"AAAAAGS4ZxR3c2Vk\",uri=\"sip:192.0.2.1\",response=\"6629fae49393a05397450978507c4ef1\",algorithm=MD5,cnonce=\"1f2e3d4c\",qop=auth,nc=00000001\r\nAllow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE\r\nContent-Length: 0\r\n\r\n",
	// sipp 3.6 uac INVITE with SDP
	"INVITE sip:1002@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4711-1-0\r\nFrom: sipp <sip:sipp@127.0.0.1:5061>;tag=4711SIPpTag001\r\nTo: 1002 <sip:1002@127.0.0.1:5060>\r\nCall-ID: 1-4711@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\nMax-Forwards: 70\r\nSubject: Performance Test\r\nContent-Type: application/sdp\r\nContent-Length: 129\r\n\r\nv=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
	// Kamailio OPTIONS keep-alive, compact headers, a response and a keep-alive
	"OPTIONS sip:127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1.kam\r\nf: <sip:ping@192.0.2.9>;tag=k1\r\nt: <sip:127.0.0.1>\r\ni: ping-1\r\nCSeq: 10 OPTIONS\r\nl: 0\r\n\r\n",
	"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK77\r\nFrom: <sip:1001@h>;tag=1\r\nTo: <sip:1002@h>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	"\r\n\r\n",
	// broken ones: short body, wildcard contact, CSeq mismatch, header injection
	"REGISTER sip:h SIP/2.0\r\nv: SIP/2.0/UDP h\r\nl: 10\r\n\r\nshort",
	"INVITE sip:x SIP/2.0\r\nContact: *, <sip:a\r\n\r\n",
	"BYE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 INVITE\r\n\r\n",
	"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: a\rX-Injected: 1\r\n\r\n",
}

// recordConn is the UDP socket the filter answers on.
type recordConn struct {
	net.PacketConn
	sent [][]byte
}

func (c *recordConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.sent = append(c.sent, bytes.Clone(b))
	return len(b), nil
}

// FuzzFilter feeds arbitrary datagrams (UDP, WebSocket) and stream chunks
// (TCP) through the filter that every message crosses before sipgo. A
// datagram is passed on unchanged, and then parses and carries the
// mandatory headers, or it is dropped, answered at most once with a
// stateless 400/513 that holds only the headers a client matches it by
// (no injected lines) and never to a response or an ACK, or with a
// stateless 200 (out-of-dialog OPTIONS) or 503 (over the rate limit). A stream chunk
// is passed on unchanged or closes the connection.
func FuzzFilter(f *testing.F) {
	for _, m := range clientMessages {
		f.Add(byte(0), []byte(m))
	}
	f.Add(byte(1), []byte(clientMessages[0]))
	f.Add(byte(2), []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")) // TLS on the TCP port
	flt := newTestFilter(f)
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	conn := &recordConn{}
	flt.srv.udp[local.String()] = conn
	remote := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5060}
	f.Fuzz(func(t *testing.T, transport byte, data []byte) {
		props := sip.TransportReadProps{Transport: "UDP", LocalAddr: local, RemoteAddr: remote}
		switch transport % 3 {
		case 1:
			props.Transport = "WS" // no such connection: the answer is dropped
		case 2:
			props.Transport = "TCP"
		}
		conn.sent = conn.sent[:0]
		in := bytes.Clone(data)
		out, err := flt.read(props, data)
		if !bytes.Equal(data, in) {
			t.Fatalf("filter modified its input")
		}
		if props.Transport == "TCP" {
			if err == nil && !bytes.Equal(out, in) || err != nil && out != nil {
				t.Fatalf("stream chunk: out %q, err %v", out, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("datagram transport returned error %v", err)
		}
		if out != nil {
			if !bytes.Equal(out, in) {
				t.Fatalf("passed a changed message %q", out)
			}
			if len(conn.sent) > 0 {
				t.Fatalf("passed and answered")
			}
			if len(bytes.Trim(out, "\r\n")) == 0 {
				return // keep-alive
			}
			msg, err := sip.ParseMessage(out)
			if err != nil {
				t.Fatalf("passed an unparseable message: %v", err)
			}
			if req, ok := msg.(*sip.Request); ok {
				if why := validate(req); why != "" {
					t.Fatalf("passed an invalid request: %s", why)
				}
			}
			return
		}
		if len(conn.sent) > 1 {
			t.Fatalf("answered %d times", len(conn.sent))
		}
		for _, res := range conn.sent {
			if bytes.HasPrefix(res, []byte("SIP/2.0 200 ")) || bytes.HasPrefix(res, []byte("SIP/2.0 503 ")) ||
				bytes.HasPrefix(res, []byte("SIP/2.0 420 ")) {
				checkStatelessAnswer(t, in, res)
				continue
			}
			checkRawResponse(t, in, res)
		}
	})
}

// checkStatelessAnswer checks the answer to a valid request that needs no
// transaction: 200 to an out-of-dialog OPTIONS, or 503 + Retry-After to an
// INVITE or REGISTER over its rate. It parses and matches the request.
func checkStatelessAnswer(t *testing.T, in, res []byte) {
	t.Helper()
	msg, err := sip.ParseMessage(in)
	if err != nil {
		t.Fatalf("answered an unparseable request %q with:\n%s", in, res)
	}
	req, ok := msg.(*sip.Request)
	if !ok || validate(req) != "" {
		t.Fatalf("stateless answer to a response or an invalid request:\n%s", res)
	}
	m, err := sip.ParseMessage(res)
	if err != nil {
		t.Fatalf("unparseable stateless answer %q: %v", res, err)
	}
	r, ok := m.(*sip.Response)
	if !ok || r.CallID().Value() != req.CallID().Value() || r.CSeq().Value() != req.CSeq().Value() {
		t.Fatalf("stateless answer does not match its request:\n%s", res)
	}
	tag, _ := r.To().Params.Get("tag")
	switch {
	case tag == "":
		t.Fatalf("stateless answer without a To tag:\n%s", res)
	case r.StatusCode == 200 && (req.Method != sip.OPTIONS || r.GetHeader("Allow") == nil):
		t.Fatalf("200 to %s, or without Allow:\n%s", req.Method, res)
	case r.StatusCode == 420 && (req.Method != sip.OPTIONS || r.GetHeader("Unsupported") == nil):
		t.Fatalf("420 to %s, or without Unsupported:\n%s", req.Method, res)
	case r.StatusCode == 503 && (req.Method != sip.INVITE && req.Method != sip.REGISTER || r.GetHeader("Retry-After") == nil):
		t.Fatalf("503 to %s, or without Retry-After:\n%s", req.Method, res)
	}
}

// checkRawResponse checks a stateless answer to req.
func checkRawResponse(t *testing.T, req, res []byte) {
	t.Helper()
	if first, _, _ := bytes.Cut(bytes.TrimLeft(req, "\r\n\t "), []byte(" ")); bytes.HasPrefix(first, []byte("SIP/")) || string(first) == "ACK" {
		t.Fatalf("answered a response or an ACK:\n%s", res)
	}
	s := string(res)
	if !strings.HasPrefix(s, "SIP/2.0 400 Bad Request\r\n") && !strings.HasPrefix(s, "SIP/2.0 513 Message Too Large\r\n") &&
		!strings.HasPrefix(s, "SIP/2.0 505 Version Not Supported\r\n") ||
		!strings.HasSuffix(s, "\r\nContent-Length: 0\r\n\r\n") {
		t.Fatalf("malformed answer:\n%q", s)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\r\n\r\n"), "\r\n")
	for _, l := range lines[1:] {
		if strings.ContainsFunc(l, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			t.Fatalf("control character in answer line %q", l)
		}
		name, _, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("answer line without a colon: %q", l)
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "warning", "content-length":
		default:
			t.Fatalf("answer copies header %q", l)
		}
	}
}
