package sipleg

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
)

func TestParseReferTo(t *testing.T) {
	tests := []struct {
		in       string
		user     string
		replaces *leg.Replaces
		bad      bool
	}{
		{in: "<sip:1003@127.0.0.1>", user: "1003"},
		{in: `"Desk" <sip:1003@pbx.example;transport=tcp>;foo=bar`, user: "1003"},
		{in: "sip:1003@127.0.0.1;method=INVITE", user: "1003"},
		{in: "<sips:%2B4930123@example.com>", user: "+4930123"},
		{in: "<sip:1003@h?Replaces=abc%40h%3Bto-tag%3D12%3Bfrom-tag%3D34>", user: "1003",
			replaces: &leg.Replaces{CallID: "abc@h", ToTag: "12", FromTag: "34"}},
		{in: "<sip:1003@h?replaces=abc%3Bfrom-tag%3D34%3Bto-tag%3D12%3Bearly-only&Require=replaces>", user: "1003",
			replaces: &leg.Replaces{CallID: "abc", ToTag: "12", FromTag: "34", EarlyOnly: true}},
		{in: "", bad: true},
		{in: "<sip:1003@h", bad: true},
		{in: "<tel:+4930123>", bad: true},
		{in: "<http://example.com/>", bad: true},
		{in: "<sip:example.com>", bad: true},                      // no user to route
		{in: "<sip:10%0d03@h>", bad: true},                        // control character
		{in: "<sip:1003@h?Replaces=abc%3Bto-tag%3D1>", bad: true}, // no from-tag
		{in: "<sip:1003@h?Replaces=%3Bto-tag%3D1%3Bfrom-tag%3D2>", bad: true},
		{in: "<sip:1003@h?Replaces=a%20b%3Bto-tag%3D1%3Bfrom-tag%3D2>", bad: true}, // a space in the Call-ID
		{in: "<sip:1003@h?Replaces=ab%3B%20to-tag%3D1%20%3B%20from-tag%3D2>", user: "1003",
			replaces: &leg.Replaces{CallID: "ab", ToTag: "1", FromTag: "2"}},
		{in: "<sip:1003@h?Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=b%3Bto-tag%3D1%3Bfrom-tag%3D2>", bad: true},
		{in: "<sip:1003@h?Replaces=%zz>", bad: true},
		{in: "<sip:" + strings.Repeat("1", 3000) + "@h>", bad: true},
	}
	for _, tt := range tests {
		rt, err := parseReferTo(tt.in)
		if tt.bad {
			if !errors.Is(err, errBadReferTo) {
				t.Errorf("parseReferTo(%q) = %+v, %v; want errBadReferTo", tt.in, rt, err)
			}
			continue
		}
		if err != nil || rt.user != tt.user {
			t.Errorf("parseReferTo(%q) = %+v, %v; want user %q", tt.in, rt, err, tt.user)
			continue
		}
		if (rt.replaces == nil) != (tt.replaces == nil) || rt.replaces != nil && *rt.replaces != *tt.replaces {
			t.Errorf("parseReferTo(%q) replaces %+v, want %+v", tt.in, rt.replaces, tt.replaces)
		}
	}
}

// What a phone sends reaches parseReferTo as sipgo re-serialises the
// parsed header: the Replaces of an attended transfer survives that.
func TestParseReferToThroughSipgo(t *testing.T) {
	raw := "REFER sip:softswitch@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:1002@127.0.0.1>;tag=b\r\n" +
		"Call-ID: x\r\nCSeq: 2 REFER\r\nMax-Forwards: 70\r\n" +
		"Refer-To: <sip:1003@127.0.0.1?Replaces=c2%40h%3Bto-tag%3Dt%3Bfrom-tag%3Df>\r\n" +
		"Content-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.(*sip.Request).GetHeader("Refer-To")
	rt, err := parseReferTo(h.Value())
	if err != nil || rt.user != "1003" || rt.replaces == nil || *rt.replaces != (leg.Replaces{CallID: "c2@h", ToTag: "t", FromTag: "f"}) {
		t.Fatalf("%q read as %+v %+v, %v", h.Value(), rt, rt.replaces, err)
	}
}

// FuzzParseReferTo reads arbitrary Refer-To values: it never panics, an
// error is always errBadReferTo (answered 400), and what it accepts is a
// printable user and, for an attended transfer, a complete Replaces.
func FuzzParseReferTo(f *testing.F) {
	for _, s := range []string{"<sip:1003@127.0.0.1>", "sip:1@h;x=y", `"A" <sips:1@h>`,
		"<sip:1003@h?Replaces=abc%40h%3Bto-tag%3D12%3Bfrom-tag%3D34>", "<sip:1@h?Replaces=%", "<>", "<sip:@h>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		rt, err := parseReferTo(v)
		if err != nil {
			if !errors.Is(err, errBadReferTo) {
				t.Fatalf("error %v does not wrap errBadReferTo", err)
			}
			return
		}
		if rt.user == "" || strings.ContainsFunc(rt.user, badTargetRune) {
			t.Fatalf("accepted user %q", rt.user)
		}
		if r := rt.replaces; r != nil && (r.CallID == "" || r.ToTag == "" || r.FromTag == "") {
			t.Fatalf("accepted an incomplete Replaces %+v", r)
		}
	})
}

// FuzzParseReplaces reads arbitrary Replaces header values (an INVITE's,
// for call pickup): never a panic, and what it accepts names a Call-ID
// and both tags, free of control characters.
func FuzzParseReplaces(f *testing.F) {
	for _, s := range []string{"abc@h;to-tag=1;from-tag=2", "a;from-tag=2;to-tag=1;early-only", ";to-tag=1;from-tag=2", "x;to-tag=;from-tag=2", "a;;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, err := parseReplaces(v)
		if err != nil {
			if !errors.Is(err, errBadReferTo) {
				t.Fatalf("error %v does not wrap errBadReferTo", err)
			}
			return
		}
		if r.CallID == "" || r.ToTag == "" || r.FromTag == "" || strings.ContainsFunc(r.CallID+r.ToTag+r.FromTag, badTargetRune) {
			t.Fatalf("accepted %+v", r)
		}
	})
}
