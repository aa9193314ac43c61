package registrar

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzRegister runs arbitrary REGISTER Contact and Expires values through
// the parser and the binding rules: every binding has an expiry within the
// limits, and the Contact we echo for it in the 200 (which JsSIP and
// RFC 5626 clients look for to find their own binding) parses back to the
// same URI, instance, reg-id and remaining time.
func FuzzRegister(f *testing.F) {
	f.Add("<sip:1001@10.0.0.1>;expires=60", "120")
	f.Add("*", "0")
	f.Add(`<sip:a@h>;+sip.instance="<urn:uuid:1>";reg-id=x, <sip:b@h>`, "")
	// JsSIP 3.13 over WSS, baresip 1.0, sipp, Linphone with a GRUU-style instance
	f.Add(`<sip:9k2lq8b1@hd3me1ad0lp6.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:4a7e6b10-2c8c-4d8f-9b1e-2f0d1c3e5a77>";expires=600`, "600")
	f.Add("<sip:1002-0x55d1@192.0.2.20:5060>;expires=3600", "")
	f.Add("sip:sipp@127.0.0.1:5061", "3600")
	f.Add(`"Bob" <sip:1003@[2001:db8::3]:5062;transport=tcp;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-0123456789ab>";reg-id=2;expires=0`, "")
	r := New(Limits{}, nil, nil, nil, slog.New(slog.DiscardHandler))
	f.Fuzz(func(t *testing.T, contact, expires string) {
		if strings.ContainsAny(contact+expires, "\r\n") {
			return
		}
		msg, err := sip.ParseMessage([]byte(registerMsg(contact, expires)))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.CallID() == nil || req.CSeq() == nil {
			return
		}
		req.SetTransport("UDP")
		upd, rej := r.parse(req, "1001")
		if rej != nil {
			return
		}
		next, _, rej := apply(nil, upd, r.lim)
		if rej != nil {
			return
		}
		for _, b := range next {
			d := b.Expires.Sub(upd.now)
			if d <= 0 || d.Seconds() > float64(r.lim.MaxExpires) {
				t.Fatalf("binding expiry %v outside limits", d)
			}
			value := contactValue(b.Binding, upd.now)
			res, err := sip.ParseMessage([]byte("SIP/2.0 200 OK\r\nContact: " + value + "\r\nContent-Length: 0\r\n\r\n"))
			if err != nil {
				t.Fatalf("our Contact %q does not parse: %v", value, err)
			}
			hs := res.GetHeaders("Contact")
			ch, ok := hs[0].(*sip.ContactHeader)
			if len(hs) != 1 || !ok {
				t.Fatalf("our Contact %q reads as %d headers", value, len(hs))
			}
			exp, _ := ch.Params.Get("expires")
			inst, _ := ch.Params.Get("+sip.instance")
			regID, _ := ch.Params.Get("reg-id")
			if ch.Address.String() != b.Contact || exp != strconv.Itoa(int(d.Seconds())) || inst != b.Instance ||
				b.RegID != 0 && regID != strconv.Itoa(b.RegID) {
				t.Fatalf("binding %q instance %q reg-id %d echoed as %q", b.Contact, b.Instance, b.RegID, value)
			}
		}
	})
}
