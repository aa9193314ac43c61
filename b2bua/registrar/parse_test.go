package registrar

import (
	"log/slog"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func registerMsg(contact, expires string) string {
	h := "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@h>;tag=1\r\nTo: <sip:1001@h>\r\nCall-ID: c\r\nCSeq: 7 REGISTER\r\n"
	if contact != "" {
		h += "Contact: " + contact + "\r\n"
	}
	if expires != "" {
		h += "Expires: " + expires + "\r\n"
	}
	return h + "Content-Length: 0\r\n\r\n"
}

func TestParseRegister(t *testing.T) {
	r := New(Limits{}, nil, nil, nil, slog.New(slog.DiscardHandler))
	tests := []struct {
		name, contact, expires string
		wantCode               int
		check                  func(update) bool
	}{
		{"header expires", "<sip:1001@10.0.0.1>", "120", 0, func(u update) bool { return len(u.contacts) == 1 && u.contacts[0].expires == 120 }},
		{"param wins", "<sip:1001@10.0.0.1>;expires=30", "120", 0, func(u update) bool { return u.contacts[0].expires == 30 }},
		{"no expiry given", "<sip:1001@10.0.0.1>", "", 0, func(u update) bool { return u.contacts[0].expires == -1 }},
		{"two contacts on one line", "<sip:a@h1>, <sip:b@h2>;expires=0", "60", 0, func(u update) bool {
			return len(u.contacts) == 2 && u.contacts[1].expires == 0 && u.contacts[0].expires == 60
		}},
		{"instance and reg-id", `<sip:a@h>;+sip.instance="<urn:uuid:1>";reg-id=2`, "", 0, func(u update) bool {
			return u.contacts[0].instance == `"<urn:uuid:1>"` && u.contacts[0].regID == 2
		}},
		{"star", "*", "0", 0, func(u update) bool { return u.star && len(u.contacts) == 0 }},
		{"star without expires 0", "*", "60", 400, nil},
		{"bad expires header", "<sip:a@h>", "soon", 400, nil},
		{"contact without scheme", ":0:", "", 400, nil},
		{"contact without host", "<sip:1001@>", "", 400, nil},
		{"contact port out of range", "<sip:a@h:99999>", "", 400, nil},
		{"contact host not a name", ":0>", "", 400, nil},
		{"ipv6 contact", "<sip:a@[2001:db8::1]:5060>", "", 0, func(u update) bool { return u.contacts[0].uri == "sip:a@[2001:db8::1]:5060" }},
		{"tel contact", "<tel:+4930123>", "", 400, nil},
		{"sips contact", "<sips:a@h:5061;transport=tls>", "", 0, func(u update) bool { return u.contacts[0].uri == "sips:a@h:5061;transport=tls" }},
		{"negative expires param", "<sip:a@h>;expires=-5", "", 400, nil},
		{"no contact: query", "", "", 0, func(u update) bool { return !u.star && len(u.contacts) == 0 }},
		{"cseq and call-id", "<sip:a@h>", "", 0, func(u update) bool { return u.cseq == 7 && u.callID == "c" && u.transport == "udp" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := sip.ParseMessage([]byte(registerMsg(tt.contact, tt.expires)))
			if err != nil {
				t.Fatal(err)
			}
			req := msg.(*sip.Request)
			req.SetTransport("UDP")
			upd, rej := r.parse(req, "1001")
			if tt.wantCode != 0 {
				if rej == nil || rej.code != tt.wantCode {
					t.Fatalf("rejection %+v, want %d", rej, tt.wantCode)
				}
				return
			}
			if rej != nil {
				t.Fatalf("unexpected rejection %+v", rej)
			}
			if !tt.check(upd) {
				t.Fatalf("update %+v", upd)
			}
		})
	}
}
