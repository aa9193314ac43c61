package trunk

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/auth"
)

// carrier is a SIP registrar on loopback that challenges REGISTERs with
// digest and answers OPTIONS, as a carrier does.
type carrier struct {
	t        *testing.T
	addr     string
	verifier *auth.Verifier
	user, pw string
	grant    int // expires granted; 0: what was asked

	mu        sync.Mutex
	silent    bool // ignore every request
	registers []*sip.Request
	options   int
}

func newCarrier(t *testing.T, user, pw string) *carrier {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{Realm: "carrier.test"})
	if err != nil {
		t.Fatal(err)
	}
	c := &carrier{t: t, verifier: v, user: user, pw: pw}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("carrier"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(c.onRegister)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		if c.isSilent() {
			return
		}
		c.mu.Lock()
		c.options++
		c.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = conn.LocalAddr().String()
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { _ = ua.Close() })
	return c
}

func (c *carrier) isSilent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.silent
}

func (c *carrier) setSilent(s bool) {
	c.mu.Lock()
	c.silent = s
	c.mu.Unlock()
}

func (c *carrier) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	if c.isSilent() {
		return
	}
	c.mu.Lock()
	user, pw := c.user, c.pw
	c.mu.Unlock()
	h := req.GetHeader("Authorization")
	if h == nil {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		for _, ch := range c.verifier.Challenges(sourceIP(req), false) {
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", ch))
		}
		_ = tx.Respond(res)
		return
	}
	cr, err := auth.ParseCredentials(h.Value())
	ha1, _ := auth.HA1("MD5", user, c.verifier.Realm(), pw)
	r := auth.Request{Method: "REGISTER", Source: sourceIP(req), User: req.Recipient.User, Host: req.Recipient.Host}
	if err != nil || cr.Username != user || c.verifier.Verify(r, cr, ha1) != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
		return
	}
	c.mu.Lock()
	c.registers = append(c.registers, req)
	grant := c.grant
	c.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if grant > 0 && req.GetHeader("Expires").Value() != "0" {
		ch := req.Contact().Clone()
		ch.Params = sip.NewParams()
		ch.Params.Add("expires", strconv.Itoa(grant))
		res.AppendHeader(ch)
	}
	_ = tx.Respond(res)
}

func (c *carrier) accepted() []*sip.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*sip.Request(nil), c.registers...)
}

func (c *carrier) hostPort() (string, int) {
	ap := netip.MustParseAddrPort(c.addr)
	return ap.Addr().String(), int(ap.Port())
}

// newTestSet is a Set with its own SIP client on loopback.
func newTestSet(t *testing.T) *Set {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSet(Options{
		Client: client,
		Contact: func(string) sip.ContactHeader {
			return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5999}}
		},
		FromHost: "127.0.0.1",
		RetryMin: 100 * time.Millisecond,
		RetryMax: 400 * time.Millisecond,
	})
	t.Cleanup(s.Close)
	return s
}

func waitStatus(t *testing.T, s *Set, name string, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, st := range s.Status() {
			if st.Name == name && ok(st) {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trunk %s: never %s; status %+v", name, what, s.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRegistersWithDigestAndRefreshes(t *testing.T) {
	c := newCarrier(t, "acct", "secret")
	c.mu.Lock()
	c.grant = 2 // the registrar shortens what we ask for: refresh at 80%
	c.mu.Unlock()
	host, port := c.hostPort()
	s := newTestSet(t)
	if _, err := s.Apply([]Config{{Name: "carrier", Host: host, Port: port, Username: "acct", Password: "secret",
		Register: true, Expires: 600, ContactUser: "pbx", OptionsInterval: -1}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s, "carrier", "registered", func(st Status) bool { return st.Registration.State == "registered" })
	deadline := time.Now().Add(10 * time.Second)
	for len(c.accepted()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	regs := c.accepted()
	if len(regs) < 2 {
		t.Fatalf("registration not refreshed within a 2 s grant: %d accepted", len(regs))
	}
	first, second := regs[0], regs[1]
	if first.CallID().Value() != second.CallID().Value() || second.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Errorf("refresh must keep the Call-ID and raise the CSeq: %s/%d then %s/%d",
			first.CallID().Value(), first.CSeq().SeqNo, second.CallID().Value(), second.CSeq().SeqNo)
	}
	if u := first.Contact().Address.User; u != "pbx" {
		t.Errorf("contact user %q, want pbx", u)
	}
	if got := first.GetHeader("Expires").Value(); got != "600" {
		t.Errorf("Expires %s, want 600", got)
	}
	// Removing the trunk unregisters it.
	if _, err := s.Apply(nil); err != nil {
		t.Fatal(err)
	}
	regs = c.accepted()
	if last := regs[len(regs)-1]; last.GetHeader("Expires").Value() != "0" {
		t.Errorf("removed trunk did not unregister: last Expires %s", last.GetHeader("Expires").Value())
	}
}

func TestRegistrationFailureIsReportedAndRetried(t *testing.T) {
	c := newCarrier(t, "acct", "secret")
	host, port := c.hostPort()
	s := newTestSet(t)
	cfg := Config{Name: "carrier", Host: host, Port: port, Username: "acct", Password: "wrong", Register: true, OptionsInterval: -1}
	if _, err := s.Apply([]Config{cfg}); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, s, "carrier", "failing", func(st Status) bool { return st.Registration.State == "failing" })
	if !strings.Contains(st.Registration.Reason, "403") {
		t.Errorf("reason %q does not say 403", st.Registration.Reason)
	}
	// The operator fixes the password: Apply restarts the trunk.
	cfg.Password = "secret"
	ch, err := s.Apply([]Config{cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Changed) != 1 {
		t.Errorf("changes %+v, want carrier changed", ch)
	}
	waitStatus(t, s, "carrier", "registered", func(st Status) bool { return st.Registration.State == "registered" })
}

func TestRegistrationRetriesWhileCarrierIsSilent(t *testing.T) {
	c := newCarrier(t, "acct", "secret")
	c.setSilent(true)
	host, port := c.hostPort()
	s := newTestSet(t)
	// Retransmissions, or the retry after the failed transaction, reach
	// the carrier once it answers again.
	if _, err := s.Apply([]Config{{Name: "carrier", Host: host, Port: port, Username: "acct", Password: "secret",
		Register: true, OptionsInterval: -1}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	c.setSilent(false)
	waitStatus(t, s, "carrier", "registered", func(st Status) bool { return st.Registration.State == "registered" })
}

func TestKeepaliveMarksUpAndDown(t *testing.T) {
	c := newCarrier(t, "", "")
	host, port := c.hostPort()
	s := newTestSet(t)
	if _, err := s.Apply([]Config{{Name: "carrier", Host: host, Port: port, OptionsInterval: 1}}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, s, "carrier", "up", func(st Status) bool { return st.Reachability.State == "up" })
	if up, err := s.Up("carrier"); !up || err != nil {
		t.Errorf("Up = %v, %v; want true", up, err)
	}
	c.setSilent(true)
	st := waitStatus(t, s, "carrier", "down", func(st Status) bool { return st.Reachability.State == "down" })
	if up, _ := s.Up("carrier"); up {
		t.Error("Up = true for a silent carrier")
	}
	if !strings.Contains(st.Reachability.Reason, "no answer") {
		t.Errorf("reason %q", st.Reachability.Reason)
	}
	c.setSilent(false)
	waitStatus(t, s, "carrier", "up again", func(st Status) bool { return st.Reachability.State == "up" })
	if _, err := s.Up("nope"); err == nil {
		t.Error("Up of an unknown trunk: no error")
	}
}

func TestIdentifyAndApplyKeepsUnchanged(t *testing.T) {
	s := newTestSet(t)
	cfgs := []Config{
		{Name: "a", Host: "127.0.0.2", OptionsInterval: -1, FromAddresses: []string{"198.51.100.0/28"}},
		{Name: "b", Host: "127.0.0.3", OptionsInterval: -1},
	}
	if _, err := s.Apply(cfgs); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{"198.51.100.7": "a", "127.0.0.2": "a", "127.0.0.3": "b", "::ffff:127.0.0.3": "b"} {
		if got, ok := s.Identify("UDP", netip.AddrPortFrom(netip.MustParseAddr(addr), 5060)); !ok || got != want {
			t.Errorf("Identify(%s) = %q, %v; want %q", addr, got, ok, want)
		}
	}
	for _, addr := range []string{"198.51.100.16", "127.0.0.1"} {
		if got, ok := s.Identify("UDP", netip.AddrPortFrom(netip.MustParseAddr(addr), 5060)); ok {
			t.Errorf("Identify(%s) = %q; want none", addr, got)
		}
	}
	// Identify runs for every INVITE and REGISTER: it allocates nothing.
	src := netip.MustParseAddrPort("192.0.2.1:5060")
	if n := testing.AllocsPerRun(100, func() { s.Identify("UDP", src) }); n != 0 {
		t.Errorf("Identify allocates %.0f times", n)
	}
	before := s.trunk("a")
	cfgs[1].Port = 5070
	ch, err := s.Apply(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	if s.trunk("a") != before || len(ch.Kept) != 1 || len(ch.Changed) != 1 {
		t.Errorf("unchanged trunk replaced or changes wrong: %+v", ch)
	}
	// A bad configuration changes nothing.
	if _, err := s.Apply([]Config{{Name: "a", Host: "x", Transport: "sctp"}}); err == nil {
		t.Error("bad transport accepted")
	}
	if s.trunk("b") == nil {
		t.Error("a refused Apply removed trunks")
	}
	if r, err := s.Route("b"); err != nil || r.Port != 5070 {
		t.Errorf("Route(b) = %+v, %v", r, err)
	}
}

func TestNormalize(t *testing.T) {
	good := Config{Name: "carrier", Host: "sip.example.net", Username: "u", Password: "p", Register: true, Codecs: []string{"pcma"}}
	if err := good.Normalize(); err != nil {
		t.Fatal(err)
	}
	if good.Port != 5060 || good.Transport != "udp" || good.Expires != 600 || good.ContactUser != "u" ||
		good.AuthUsername != "u" || good.Codecs[0] != "PCMA" || good.OptionsInterval != 30 {
		t.Errorf("defaults not applied: %+v", good)
	}
	withOpus := Config{Name: "o", Host: "h", Codecs: []string{"OPUS", "pcmu", "Opus"}}
	if err := withOpus.Normalize(); err != nil || strings.Join(withOpus.Codecs, ",") != "opus,PCMU,opus" {
		t.Errorf("opus codecs: %v %v", withOpus.Codecs, err)
	}
	tls := Config{Name: "t", Host: "2001:db8::1", Transport: "TLS"}
	if err := tls.Normalize(); err != nil || tls.Port != 5061 {
		t.Errorf("tls default port: %+v %v", tls, err)
	}
	for _, bad := range []Config{
		{Name: "", Host: "h"},
		{Name: "a b", Host: "h"},
		{Name: "x", Host: ""},
		{Name: "x", Host: "h", Transport: "ws"},
		{Name: "x", Host: "h", Port: 70000},
		{Name: "x", Host: "h", Username: "u"},
		{Name: "x", Host: "h", Register: true},
		{Name: "x", Host: "h", Expires: 5},
		{Name: "x", Host: "h", FromAddresses: []string{"10.0.0.0/33"}},
		{Name: "x", Host: "h", Codecs: []string{"G729"}},
	} {
		if err := bad.Normalize(); err == nil {
			t.Errorf("accepted %+v", bad)
		} else if !strings.Contains(err.Error(), "trunk") {
			t.Errorf("error %q does not name the trunk", err)
		}
	}
	if err := NormalizeAll([]Config{{Name: "a", Host: "h"}, {Name: "a", Host: "h"}}); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestWriteStatus(t *testing.T) {
	now := time.Now()
	var b strings.Builder
	_ = WriteStatus(&b, []Status{{Name: "carrier", Target: "udp:192.0.2.1:5060",
		Registration: Registration{State: "failing", Reason: "REGISTER refused: 403 Forbidden", Since: now.Add(-time.Minute)},
		Reachability: Reachability{State: "down", Reason: "no answer to OPTIONS", Since: now.Add(-time.Minute)}}}, now)
	out := b.String()
	for _, want := range []string{"TRUNK", "carrier", "failing for 1m0s: REGISTER refused: 403 Forbidden", "down for 1m0s: no answer to OPTIONS"} {
		if !strings.Contains(out, want) {
			t.Errorf("status %q lacks %q", out, want)
		}
	}
	b.Reset()
	_ = WriteStatus(&b, nil, now)
	if !strings.Contains(b.String(), "no trunks") {
		t.Errorf("empty status %q", b.String())
	}
}

// sourceIP is the address (no port) a request came from.
func sourceIP(req *sip.Request) string {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return req.Source()
	}
	return host
}
