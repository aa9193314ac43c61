package registrar

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
)

// Two nodes behind one proxy share a store: a registration one takes
// through the proxy (with its Path) is found by the other, refreshed or
// removed by either, and survives the node that took it.
func TestSharedBindingsBehindProxy(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "softswitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.AddUser(ctx, store.User{Ext: "1001", Realm: "softswitch"}); err != nil {
		t.Fatal(err)
	}
	isProxy := func(host string) bool { return host == "127.0.0.10" }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New(Limits{}, st, nil, nil, log, BehindProxies(isProxy))
	b := New(Limits{}, st, nil, nil, log, BehindProxies(isProxy))

	now := time.Now()
	path := "<sip:127.0.0.10;lr;received=sip:127.0.0.1:40000%3Btransport%3Dws>"
	upd := update{ext: "1001", callID: "reg", cseq: 1, transport: "udp", source: "127.0.0.10:5060", now: now, path: path,
		contacts: []contact{{uri: "sip:abc@x.invalid;transport=ws", expires: 600}}}
	if _, rej := a.commit(ctx, upd); rej != nil {
		t.Fatalf("node a: %d %s", rej.code, rej.reason)
	}
	got := b.Lookup("1001")
	if len(got) != 1 || got[0].Path != path || got[0].Transport != "ws" || got[0].Source != "127.0.0.10:5060" {
		t.Fatalf("node b Lookup = %+v; want node a's binding, transport ws, with its Path", got)
	}
	if mem := a.CountByTransport(); mem["ws"] != 1 {
		t.Errorf("node a counts %v, want ws 1", mem)
	}

	// The refresh goes to node b (dispatcher), then node a forgets on
	// its own clock: the store keeps b's later expiry.
	upd.cseq, upd.now = 2, now.Add(time.Minute)
	if _, rej := b.commit(ctx, upd); rej != nil {
		t.Fatalf("node b refresh: %d %s", rej.code, rej.reason)
	}
	b.Flush(ctx)
	a.now = func() time.Time { return now.Add(601 * time.Second) } // past a's expiry, not b's
	a.expire()
	if got := a.Lookup("1001"); len(got) != 1 || got[0].CSeq != 2 {
		t.Fatalf("after node a's expiry sweep: %+v; want b's refresh kept", got)
	}

	// Un-REGISTER through node a: gone for node b too.
	a.now = time.Now
	upd.cseq, upd.now = 3, now.Add(2*time.Minute)
	upd.contacts = []contact{{uri: "sip:abc@x.invalid;transport=ws", expires: 0}}
	if _, rej := a.commit(ctx, upd); rej != nil {
		t.Fatalf("node a un-register: %d %s", rej.code, rej.reason)
	}
	if got := b.Lookup("1001"); len(got) != 0 {
		t.Fatalf("node b Lookup after un-register = %+v, want none", got)
	}
}

// A Path from a host that is no proxy is ignored: the binding is direct.
func TestPathOnlyFromProxies(t *testing.T) {
	r := New(Limits{}, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), BehindProxies(func(h string) bool { return h == "127.0.0.10" }))
	for _, tt := range []struct {
		source, want string
	}{{"127.0.0.10:5060", "<sip:127.0.0.10;lr>"}, {"127.0.0.99:5060", ""}} {
		req := registerRequest(t, tt.source, "Path: <sip:127.0.0.10;lr>")
		upd, rej := r.parse(req, "1001")
		if rej != nil {
			t.Fatalf("parse: %d %s", rej.code, rej.reason)
		}
		if upd.path != tt.want {
			t.Errorf("from %s: path %q, want %q", tt.source, upd.path, tt.want)
		}
	}
}

// registerRequest is a REGISTER of 1001 from source with one Contact and
// the extra header line hdr.
func registerRequest(t *testing.T, source, hdr string) *sip.Request {
	t.Helper()
	msg := "REGISTER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP " + source + ";branch=z9hG4bKp\r\nFrom: <sip:1001@h>;tag=1\r\nTo: <sip:1001@h>\r\n" +
		"Call-ID: c\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@192.0.2.1:5060>\r\n" + hdr + "\r\nContent-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource(source)
	req.SetTransport("UDP")
	return req
}

// Behind a proxy, failures count against the client the proxy names in
// ClientHeader; without it (or from anyone else) against the source.
func TestClientHostBehindProxy(t *testing.T) {
	a := NewAuthenticator(nil, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)),
		WithProxies(func(h string) bool { return h == "127.0.0.10" }))
	for _, tt := range []struct{ source, hdr, want string }{
		{"127.0.0.10:5060", ClientHeader + ": 198.51.100.7", "198.51.100.7"},
		{"127.0.0.10:5060", ClientHeader + ": ::ffff:198.51.100.8", "198.51.100.8"},
		{"127.0.0.10:5060", ClientHeader + ": not-an-address", "127.0.0.10"},
		{"127.0.0.10:5060", "", "127.0.0.10"},
		{"198.51.100.9:5060", ClientHeader + ": 203.0.113.1", "198.51.100.9"}, // not a proxy: its own word does not count
	} {
		msg := "INVITE sip:1002@h SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.10;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP 203.0.113.9;received=203.0.113.9;branch=z9hG4bKb\r\n" +
			"From: <sip:1001@h>;tag=1\r\nTo: <sip:1002@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
		if tt.hdr != "" {
			msg += tt.hdr + "\r\n"
		}
		m, err := sip.ParseMessage([]byte(msg + "Content-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		req := m.(*sip.Request)
		req.SetSource(tt.source)
		if got := a.clientHost(req); got != tt.want {
			t.Errorf("clientHost(from %s, %q) = %q, want %q", tt.source, tt.hdr, got, tt.want)
		}
	}
}
