package message

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
)

// FuzzHandleMessage feeds parsed MESSAGEs of any shape (odd Request-URIs,
// Content-Types, bodies) through the handler: it answers exactly once and
// never panics, and what it forwards keeps the body byte for byte.
func FuzzHandleMessage(f *testing.F) {
	f.Add([]byte("MESSAGE sip:1002@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
		"From: <sip:1001@pbx.test>;tag=a\r\nTo: <sip:1002@pbx.test>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\n" +
		"Proxy-Authorization: 1001\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"))
	f.Add([]byte("MESSAGE sip:help@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK2\r\n" +
		"From: <sip:1001@pbx.test>;tag=a\r\nTo: <sip:help@pbx.test>\r\nCall-ID: c2\r\nCSeq: 1 MESSAGE\r\n" +
		"Proxy-Authorization: 1001\r\nContent-Length: 4\r\n\r\nhelp"))
	f.Add([]byte("MESSAGE sip:@ SIP/2.0\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK3\r\nFrom: <sip:x>\r\nTo: <sip:y>\r\n" +
		"Call-ID: c\r\nCSeq: 1 MESSAGE\r\nProxy-Authorization: 1003\r\nContent-Type: ;;;\r\nContent-Length: 0\r\n\r\n"))
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, err := parser.ParseSIP(raw)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		for _, plan := range []Dialplan{nil, fakePlan{}} {
			r := newRig(t, Config{MaxBody: 64, Dialplan: plan})
			r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
			r.send.status["127.0.0.1:5071"] = 200
			r.svc.HandleMessage(req, nil)
			r.resp.last(t)
			r.svc.Close()
			for _, out := range r.send.sent() {
				if out.From().Address.User == "help" {
					continue // on_message's reply
				}
				if string(out.Body()) != string(req.Body()) {
					t.Fatalf("forwarded body %q, received %q", out.Body(), req.Body())
				}
			}
		}
	})
}
