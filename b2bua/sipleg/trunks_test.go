package sipleg

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/trunk"
)

func TestDIDOf(t *testing.T) {
	tr := trunk.Config{ContactUser: "acct"}
	for _, tt := range []struct{ ruri, to, want string }{
		{"sip:5550100@pbx.example", "sip:5550100@pbx.example", "5550100"},
		{"sip:acct@192.0.2.1:5060", "sip:+4930123@carrier", "+4930123"}, // our registered contact: the DID is in To
		{"sip:acct@192.0.2.1", "sip:carrier", "acct"},
		{"sip:192.0.2.1", "sip:+4930123@carrier", "+4930123"},
	} {
		req := sip.NewRequest(sip.INVITE, mustURI(t, tt.ruri))
		req.AppendHeader(&sip.ToHeader{Address: mustURI(t, tt.to)})
		if got := didOf(req, tr); got != tt.want {
			t.Errorf("didOf(%s, To %s) = %q, want %q", tt.ruri, tt.to, got, tt.want)
		}
	}
}

func mustURI(t *testing.T, s string) sip.Uri {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestValidNumber(t *testing.T) {
	for s, want := range map[string]bool{"+4930123": true, "*98#": true, "0": true, "": false, "12+3": false,
		"abc": false, "1@x": false, "123;user=phone": false, strings.Repeat("1", 33): false} {
		if got := validNumber(s); got != want {
			t.Errorf("validNumber(%q) = %v", s, got)
		}
	}
}

type fakeTrunks map[string]trunk.Config

func (f fakeTrunks) Route(name string) (trunk.Config, error) {
	c, ok := f[name]
	if !ok {
		return trunk.Config{}, &leg.Error{Cause: leg.NotFound}
	}
	return c, nil
}

func (f fakeTrunks) Identify(netip.Addr) (string, bool) { return "", false }

func TestTrunkBranch(t *testing.T) {
	m := &Manager{trunks: fakeTrunks{"tls": {Name: "tls", Host: "sip.example.net", Port: 5061, Transport: "tls"},
		"udp": {Name: "udp", Host: "192.0.2.7", Port: 5060, Transport: "udp"}}}
	b, err := m.trunkBranch("trunk/tls/+4930123")
	if err != nil {
		t.Fatal(err)
	}
	if b.ruri.String() != "sip:+4930123@sip.example.net:5061;transport=tls" || b.dest != "sip.example.net:5061" || b.transport != "tls" || b.trunk == nil {
		t.Errorf("branch %+v (ruri %s)", b, b.ruri.String())
	}
	if b, err := m.trunkBranch("trunk/udp/555"); err != nil || b.ruri.String() != "sip:555@192.0.2.7:5060" {
		t.Errorf("udp branch %v, %v", b.ruri.String(), err)
	}
	for _, bad := range []string{"trunk/udp", "trunk//555", "trunk/udp/5 5", "trunk/nope/555", "trunk/udp/555@evil"} {
		if _, err := m.trunkBranch(bad); leg.CauseOf(err) != leg.NotFound {
			t.Errorf("%s: err %v, want not-found", bad, err)
		}
	}
}

// An untrusted caller never reaches an external target; each refusal is
// counted, and logged once per source a minute.
func TestUntrustedCallerNeverLeaves(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	m := &Manager{log: log, trunks: fakeTrunks{"carrier": {Name: "carrier", Host: "192.0.2.7", Port: 5060, Transport: "udp"}},
		fraud: newSourceLog(log, "external call refused")}
	for _, target := range []string{"trunk/carrier/0049301234", "sip:0049301234@192.0.2.7", "trunk/carrier/1"} {
		_, err := m.Dial(context.Background(), target, leg.DialOptions{Source: "198.51.100.9:5060"})
		if leg.CauseOf(err) != leg.Forbidden {
			t.Errorf("%s: err %v, want forbidden", target, err)
		}
	}
	if n := strings.Count(logs.String(), "external call refused"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "source=198.51.100.9 count=1") {
		t.Errorf("log lacks the source and count:\n%s", logs.String())
	}
	m.fraud.note("198.51.100.10:1")
	if !strings.Contains(logs.String(), "source=198.51.100.10 count=1") {
		t.Errorf("another source is not logged on its own:\n%s", logs.String())
	}
}
