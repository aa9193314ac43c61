package sipserver

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// fakeClock is a settable time source.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newTestLimiter(cfg RateLimits, log *slog.Logger) (*limiter, *fakeClock) {
	l := newLimiter(cfg, log)
	c := &fakeClock{t: time.Unix(1_000_000, 0)}
	l.now = c.now
	return l, c
}

func TestLimiterTokenBucket(t *testing.T) {
	l, clock := newTestLimiter(RateLimits{Invite: RateLimit{Rate: 10, Burst: 5}}, slog.New(slog.DiscardHandler))
	id := uint64(100)
	take := func(host string) (bool, int) { id++; return l.allow(host, sip.INVITE, id) }
	for i := 0; i < 5; i++ {
		if ok, _ := take("192.0.2.1"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := take("192.0.2.1")
	if ok || wait != 1 {
		t.Fatalf("over the burst: allowed=%v retry-after=%d, want refused with 1", ok, wait)
	}
	if ok, _ := take("192.0.2.2"); !ok {
		t.Fatal("another source was refused")
	}
	if ok, _ := l.allow("192.0.2.1", sip.REGISTER, 1); !ok {
		t.Fatal("REGISTER shares the INVITE bucket")
	}
	clock.add(100 * time.Millisecond) // one token at 10/s
	if ok, _ := take("192.0.2.1"); !ok {
		t.Fatal("no token after the refill time")
	}
	if ok, _ := take("192.0.2.1"); ok {
		t.Fatal("two tokens after one refill time")
	}
	clock.add(time.Hour)
	for i := 0; i < 5; i++ { // the bucket holds Burst at most
		if ok, _ := take("192.0.2.1"); !ok {
			t.Fatalf("request %d after a long pause refused", i+1)
		}
	}
	if ok, _ := take("192.0.2.1"); ok {
		t.Fatal("the bucket grew past its burst")
	}
}

// Addresses of one IPv6 /64 share a bucket: a new address per request
// does not get past the limit (nor fill the limiter with sources).
func TestLimiterCountsIPv6Per64(t *testing.T) {
	l, _ := newTestLimiter(RateLimits{Invite: RateLimit{Rate: 10, Burst: 5}}, slog.New(slog.DiscardHandler))
	for i := 0; i < 5; i++ {
		if ok, _ := l.allow(fmt.Sprintf("2001:db8:1:2::%x", i+1), sip.INVITE, uint64(i+1)); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	if ok, _ := l.allow("2001:db8:1:2::ffff", sip.INVITE, 99); ok {
		t.Fatal("a fresh address of the same /64 got past the limit")
	}
	if ok, _ := l.allow("2001:db8:1:3::1", sip.INVITE, 100); !ok {
		t.Fatal("another /64 was refused")
	}
}

// A retransmission of an admitted request costs nothing; the same request
// after the retransmission window is new.
func TestLimiterRetransmissionCountsOnce(t *testing.T) {
	l, clock := newTestLimiter(RateLimits{Register: RateLimit{Rate: 1, Burst: 2}}, slog.New(slog.DiscardHandler))
	for i := 0; i < 50; i++ {
		if ok, _ := l.allow("192.0.2.1", sip.REGISTER, 7); !ok {
			t.Fatalf("retransmission %d refused", i)
		}
	}
	if ok, _ := l.allow("192.0.2.1", sip.REGISTER, 8); !ok {
		t.Fatal("second request refused: the retransmissions were counted")
	}
	if ok, _ := l.allow("192.0.2.1", sip.REGISTER, 9); ok {
		t.Fatal("third request within the burst of 2 allowed")
	}
	if ok, _ := l.allow("192.0.2.1", sip.REGISTER, 0); ok {
		t.Fatal("id 0 (stream transport) must always count")
	}
	clock.add(dedupWindow + time.Second)
	l.allow("192.0.2.1", sip.REGISTER, 10)
	l.allow("192.0.2.1", sip.REGISTER, 11)
	if ok, _ := l.allow("192.0.2.1", sip.REGISTER, 7); ok {
		t.Fatal("a request id seen long ago was not counted")
	}
}

func TestLimiterDefaultsAndOff(t *testing.T) {
	l := newLimiter(RateLimits{Invite: RateLimit{Rate: -1}, Register: RateLimit{Rate: 500}}, slog.New(slog.DiscardHandler))
	if got := l.limits[sip.REGISTER]; got.Burst != 500 {
		t.Fatalf("burst for rate 500 = %d, want 500", got.Burst)
	}
	inv := mustRequest(t, "INVITE", "")
	if l.applies(inv) {
		t.Fatal("a negative rate must turn limiting off")
	}
	d := newLimiter(RateLimits{}, slog.New(slog.DiscardHandler))
	if d.limits[sip.INVITE] != DefaultInviteLimit || d.limits[sip.REGISTER] != DefaultRegisterLimit {
		t.Fatalf("defaults %+v", d.limits)
	}
	if !d.applies(inv) || d.applies(mustRequest(t, "INVITE", ";tag=x")) || d.applies(mustRequest(t, "BYE", "")) {
		t.Fatal("limits apply to out-of-dialog INVITE and REGISTER only")
	}
	if !d.applies(mustRequest(t, "REGISTER", ";tag=x")) {
		t.Fatal("a To tag got a REGISTER past the limit")
	}
}

// Idle sources are forgotten; a flood of sources is bounded.
func TestLimiterBoundedMemory(t *testing.T) {
	var logs bytes.Buffer
	l, clock := newTestLimiter(RateLimits{Invite: RateLimit{Rate: 1, Burst: 1}, MaxSources: 100},
		slog.New(slog.NewTextHandler(&logs, nil)))
	for i := 0; i < 150; i++ {
		if ok, _ := l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), sip.INVITE, 0); !ok {
			t.Fatalf("source %d refused: a full table must let new sources through", i)
		}
	}
	if n := l.sources(); n != 100 {
		t.Fatalf("%d sources tracked, want the maximum 100", n)
	}
	if n := strings.Count(logs.String(), "rate limiter full"); n != 1 {
		t.Fatalf("'full' logged %d times, want once:\n%s", n, logs.String())
	}
	clock.add(dedupWindow)
	l.allow("10.1.0.1", sip.INVITE, 0)
	if n := l.sources(); n != 1 {
		t.Fatalf("%d sources after the idle ones were swept, want 1", n)
	}
}

// Refusals are logged once a minute per source, with how many there were.
func TestLimiterLogsOncePerMinute(t *testing.T) {
	var logs bytes.Buffer
	l, clock := newTestLimiter(RateLimits{Invite: RateLimit{Rate: 1, Burst: 1}}, slog.New(slog.NewTextHandler(&logs, nil)))
	for i := 0; i < 100; i++ {
		l.allow("192.0.2.9", sip.INVITE, 0)
		clock.add(10 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), `msg="request rate limited"`); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs.String())
	}
	clock.add(time.Minute)
	l.allow("192.0.2.9", sip.INVITE, 0)
	l.allow("192.0.2.9", sip.INVITE, 0)
	if !strings.Contains(logs.String(), "refused=98") {
		t.Fatalf("the second line does not count the refusals since the first:\n%s", logs.String())
	}
}

func mustRequest(t *testing.T, method, toParams string) *sip.Request {
	t.Helper()
	raw := method + " sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>" + toParams +
		"\r\nCall-ID: c\r\nCSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

// Over UDP the filter answers out-of-dialog OPTIONS itself (same content
// as the handler), and REGISTERs over the limit get a stateless 503.
func TestStatelessAnswers(t *testing.T) {
	s, err := New(Config{RateLimit: RateLimits{Register: RateLimit{Rate: 0.001, Burst: 3}}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Handle(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) { s.Reply(req, tx, 401, "Unauthorized") })
	c := dialUDP(t, s)
	exchange := func(method, branch string) *sip.Response {
		t.Helper()
		raw := fmt.Sprintf("%s sip:x SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"+
			"Call-ID: c-%s\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", method, c.LocalAddr(), branch, branch, method)
		return exchangeUDP(t, c, raw)
	}
	res := exchange("OPTIONS", "opt")
	for _, h := range []string{"Allow", "Accept", "Supported", "Accept-Language", "Server"} {
		if res.GetHeader(h) == nil {
			t.Fatalf("OPTIONS answer without %s:\n%s", h, res)
		}
	}
	if tag, _ := res.To().Params.Get("tag"); res.StatusCode != 200 || tag == "" || !strings.Contains(res.GetHeader("Allow").Value(), "REGISTER") {
		t.Fatalf("OPTIONS answer:\n%s", res)
	}
	if got, _ := res.Via().Params.Get("received"); got != "127.0.0.1" {
		t.Fatalf("stateless answer without received= on Via:\n%s", res)
	}
	for i := 0; i < 3; i++ {
		if res := exchange("REGISTER", fmt.Sprint("r", i)); res.StatusCode != 401 {
			t.Fatalf("REGISTER %d within the burst got %d", i, res.StatusCode)
		}
	}
	if res := exchange("REGISTER", "r0"); res.StatusCode != 401 {
		t.Fatalf("a retransmission got %d, want the transaction's 401", res.StatusCode)
	}
	res = exchange("REGISTER", "r3")
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("REGISTER over the limit:\n%s", res)
	}
}

// dialUDP starts s on a UDP port and returns a socket connected to it.
func dialUDP(t *testing.T, s *Server) net.Conn {
	t.Helper()
	addr, err := s.ListenUDPAndTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// exchangeUDP sends a request on c and returns the answer.
func exchangeUDP(t *testing.T, c net.Conn, raw string) *sip.Response {
	t.Helper()
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to %q: %v", raw, err)
	}
	msg, err := sip.ParseMessage(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		t.Fatalf("answer is a request:\n%s", buf[:n])
	}
	return res
}

// Exempt sources (carriers) are never limited; the others still are.
func TestLimiterExemptSources(t *testing.T) {
	l, _ := newTestLimiter(RateLimits{Invite: RateLimit{Rate: 1, Burst: 1}}, slog.New(slog.DiscardHandler))
	exempt := func(host string) bool { return host == "203.0.113.7" }
	l.exempt.Store(&exempt)
	for i := uint64(1); i <= 100; i++ {
		if ok, _ := l.allow("203.0.113.7", sip.INVITE, i); !ok {
			t.Fatalf("carrier's INVITE %d limited", i)
		}
	}
	if ok, _ := l.allow("192.0.2.1", sip.INVITE, 1000); !ok {
		t.Fatal("first INVITE of another source refused")
	}
	if ok, _ := l.allow("192.0.2.1", sip.INVITE, 1001); ok {
		t.Fatal("another source is no longer limited")
	}
}

// The stateless hook answers what it returns a response for without a
// transaction (the handler never runs); anything else, and everything
// while draining, reaches the handler (issue 20).
func TestStatelessHook(t *testing.T) {
	s, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var handled atomic.Int32
	s.Handle(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		handled.Add(1)
		s.Reply(req, tx, 200, "OK")
	})
	s.SetStateless(func(req *sip.Request) *sip.Response {
		if req.GetHeader("authorization") != nil {
			return nil
		}
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="r", nonce="n"`))
		return res
	})
	c := dialUDP(t, s)
	exchange := func(branch, extra string) *sip.Response {
		t.Helper()
		raw := fmt.Sprintf("REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n"+
			"Call-ID: c-%s\r\nCSeq: 1 REGISTER\r\n%sMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", c.LocalAddr(), branch, branch, extra)
		return exchangeUDP(t, c, raw)
	}
	res := exchange("a", "")
	if res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil || res.GetHeader("Server") == nil || handled.Load() != 0 {
		t.Fatalf("REGISTER without credentials: handler ran %d times, answer:\n%s", handled.Load(), res)
	}
	if tag, _ := res.To().Params.Get("tag"); tag == "" {
		t.Fatalf("stateless 401 without a To tag:\n%s", res)
	}
	if res := exchange("b", "Authorization: Digest x\r\n"); res.StatusCode != 200 || handled.Load() != 1 {
		t.Fatalf("REGISTER with credentials: %d, handler ran %d times", res.StatusCode, handled.Load())
	}
	s.StartDrain()
	if res := exchange("c", ""); res.StatusCode != 503 || handled.Load() != 1 {
		t.Fatalf("while draining: %d, handler ran %d times; want the handler's path (503)", res.StatusCode, handled.Load())
	}
}
