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
	"github.com/softswitch/softswitch/b2bua/store"
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

func (f fakeTrunks) Identify(string, netip.AddrPort) (string, bool) { return "", false }

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
		_, err := m.Resolve(context.Background(), target, leg.DialOptions{Source: "198.51.100.9:5060"})
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
	m.fraud.Note("198.51.100.10:1")
	if !strings.Contains(logs.String(), "source=198.51.100.10 count=1") {
		t.Errorf("another source is not logged on its own:\n%s", logs.String())
	}
}

type fakeUsers map[string]bool

func (f fakeUsers) User(_ context.Context, ext string) (store.User, error) {
	if !f[ext] {
		return store.User{}, store.ErrNotFound
	}
	return store.User{Ext: ext}, nil
}

type fakeLocator map[string][]store.Binding

func (f fakeLocator) Lookup(ext string) []store.Binding { return f[ext] }
func (f fakeLocator) Registered(string) bool            { return false }

// Resolve turns a target into one branch per place it rings; the call,
// not the Manager, forks over them.
func TestResolve(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	m := &Manager{log: log, fraud: newSourceLog(log, "external call refused"),
		users: fakeUsers{"1002": true, "1003": true},
		loc: fakeLocator{"1002": {
			{Ext: "1002", Contact: "sip:1002@10.0.0.5:5062", Transport: "udp", Source: "192.0.2.5:5062"},
			{Ext: "1002", Contact: "<<unparseable", Transport: "udp", Source: "192.0.2.6:5060"},
			{Ext: "1002", Contact: "sip:1002@10.0.0.7", Transport: "udp", Source: "192.0.2.7:5060"},
		}}}
	trusted := leg.DialOptions{Trusted: true}
	bs, err := m.Resolve(context.Background(), "user/1002", leg.DialOptions{})
	if err != nil || len(bs) != 2 {
		t.Fatalf("user/1002: %d branches, %v; want 2 (one contact is unusable)", len(bs), err)
	}
	if got := bs[0].String(); got != "sip:1002@10.0.0.5:5062 via udp to 192.0.2.5:5062" {
		t.Errorf("branch named %q", got)
	}
	for target, want := range map[string]leg.Cause{"user/1003": leg.Unavailable, "user/9999": leg.NotFound,
		"bogus": leg.NotFound, "sip:": leg.NotFound} {
		if _, err := m.Resolve(context.Background(), target, trusted); leg.CauseOf(err) != want {
			t.Errorf("%s: err %v, want %s", target, err, want.Name)
		}
	}
	bs, err = m.Resolve(context.Background(), "sip:5550100@192.0.2.9;transport=tcp", trusted)
	if err != nil || len(bs) != 1 || bs[0].String() != "sip:5550100@192.0.2.9;transport=tcp via tcp to 192.0.2.9:5060" {
		t.Fatalf("URI target: %v, %v", bs, err)
	}
}

// TrunkMessage refuses a target that names no trunk, or no number, with
// 404 and sends nothing (the Manager has no client: sending would fail).
func TestTrunkMessageBadTarget(t *testing.T) {
	m := &Manager{trunks: fakeTrunks{"udp": {Name: "udp", Host: "192.0.2.7", Port: 5060, Transport: "udp"}}}
	for _, target := range []string{"user/1001", "trunk/nope/123", "trunk/udp/12ab", "trunk/udp"} {
		if code, err := m.TrunkMessage(t.Context(), target, "1001", "", "text/plain", []byte("x")); code != 404 || err == nil {
			t.Errorf("%s: %d, %v; want 404 and an error", target, code, err)
		}
	}
}
