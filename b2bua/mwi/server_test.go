package mwi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
)

// fakeAuth accepts every request as extension ext.
type fakeAuth struct{ ext string }

func (a fakeAuth) Authenticate(context.Context, *sip.Request, sip.ServerTransaction, bool) (store.User, bool) {
	return store.User{Ext: a.ext}, true
}

type responses struct {
	mu  sync.Mutex
	got []*sip.Response
}

func (r *responses) Respond(_ sip.ServerTransaction, res *sip.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, res)
}

func (r *responses) last(t *testing.T) *sip.Response {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("no response")
	}
	return r.got[len(r.got)-1]
}

// phone answers NOTIFYs with status and keeps them.
type phone struct {
	mu     sync.Mutex
	status int
	got    []*sip.Request
	seen   chan struct{}
}

func newPhone(status int) *phone { return &phone{status: status, seen: make(chan struct{}, 16)} }

func (p *phone) Do(_ context.Context, req *sip.Request, _ ...sipgo.ClientRequestOption) (*sip.Response, error) {
	p.mu.Lock()
	p.got = append(p.got, req)
	p.mu.Unlock()
	p.seen <- struct{}{}
	return sip.NewResponseFromRequest(req, p.status, "", nil), nil
}

// next waits for the next NOTIFY and returns its Subscription-State and
// parsed body.
func (p *phone) next(t *testing.T) (*sip.Request, string, bool, Summary) {
	t.Helper()
	select {
	case <-p.seen:
	case <-time.After(5 * time.Second):
		t.Fatal("no NOTIFY")
	}
	p.mu.Lock()
	req := p.got[len(p.got)-1]
	p.mu.Unlock()
	waiting, s, err := ParseSummary(req.Body())
	if err != nil {
		t.Fatalf("NOTIFY body %q: %v", req.Body(), err)
	}
	return req, req.GetHeader("Subscription-State").Value(), waiting, s
}

type counts struct {
	mu       sync.Mutex
	new, old int
}

func (c *counts) Counts(context.Context, string) (int, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.new, c.old, nil
}

func subscribeReq(t *testing.T, user, toTag, expires, event string) *sip.Request {
	t.Helper()
	to := "<sip:" + user + "@192.0.2.1>"
	if toTag != "" {
		to += ";tag=" + toTag
	}
	raw := "SUBSCRIBE sip:" + user + "@192.0.2.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 198.18.0.1:5062;branch=z9hG4bK-" + fmt.Sprint(time.Now().UnixNano()) + "\r\n" +
		"From: <sip:1001@192.0.2.1>;tag=phone1\r\n" +
		"To: " + to + "\r\n" +
		"Call-ID: sub-1@198.18.0.1\r\n" +
		"CSeq: 1 SUBSCRIBE\r\n" +
		"Contact: <sip:1001@198.18.0.1:5062>\r\n"
	if event != "" {
		raw += "Event: " + event + "\r\n"
	}
	if expires != "" {
		raw += "Expires: " + expires + "\r\n"
	}
	raw += "Content-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource("198.18.0.1:5062")
	return req
}

func newTestServer(c *counts, p *phone) (*Server, *responses) {
	r := &responses{}
	return New(Config{Host: "192.0.2.1"}, c, fakeAuth{ext: "1001"}, r, p, slog.New(slog.DiscardHandler)), r
}

// A subscription gets 200 with a To tag and an immediate NOTIFY; a change
// of the mailbox sends another; Expires: 0 ends it with a final NOTIFY.
func TestSubscribeNotify(t *testing.T) {
	c, p := &counts{}, newPhone(200)
	s, r := newTestServer(c, p)
	defer s.Close()
	s.HandleSubscribe(subscribeReq(t, "1001", "", "600", "message-summary"), nil)
	res := r.last(t)
	tag, _ := res.To().Params.Get("tag")
	if res.StatusCode != 200 || tag == "" || res.GetHeader("Expires").Value() != "600" {
		t.Fatalf("response %d, To tag %q, Expires %v; want 200 with a tag and 600", res.StatusCode, tag, res.GetHeader("Expires"))
	}
	req, state, waiting, sum := p.next(t)
	if !strings.HasPrefix(state, "active;expires=") || waiting || sum.New != 0 || sum.Account != "sip:1001@192.0.2.1" {
		t.Fatalf("first NOTIFY: state %q, waiting %v, %+v", state, waiting, sum)
	}
	if req.Recipient.String() != "sip:1001@198.18.0.1:5062" || req.Destination() != "198.18.0.1:5062" ||
		req.CallID().Value() != "sub-1@198.18.0.1" || req.GetHeader("Event").Value() != "message-summary" ||
		req.GetHeader("Content-Type").Value() != ContentType {
		t.Fatalf("NOTIFY not in the subscription's dialog:\n%s", req)
	}
	if ft, _ := req.From().Params.Get("tag"); ft != tag {
		t.Fatalf("NOTIFY From tag %q, want the 200's To tag %q", ft, tag)
	}
	if tt, _ := req.To().Params.Get("tag"); tt != "phone1" {
		t.Fatalf("NOTIFY To tag %q, want the subscriber's phone1", tt)
	}
	firstCSeq := req.CSeq().SeqNo

	c.mu.Lock()
	c.new, c.old = 1, 2
	c.mu.Unlock()
	s.MailboxChanged("1001")
	s.MailboxChanged("1002") // not subscribed: nothing
	req, _, waiting, sum = p.next(t)
	if !waiting || sum.New != 1 || sum.Old != 2 || req.CSeq().SeqNo != firstCSeq+1 {
		t.Fatalf("NOTIFY after a message: waiting %v, %+v, CSeq %d", waiting, sum, req.CSeq().SeqNo)
	}
	if n := s.Subscriptions(); n != 1 {
		t.Fatalf("%d subscriptions, want 1", n)
	}

	s.HandleSubscribe(subscribeReq(t, "1001", tag, "0", "message-summary"), nil)
	if res := r.last(t); res.StatusCode != 200 {
		t.Fatalf("unsubscribe answered %d", res.StatusCode)
	}
	_, state, _, _ = p.next(t)
	if !strings.HasPrefix(state, "terminated") || s.Subscriptions() != 0 {
		t.Fatalf("after Expires: 0: state %q, %d subscriptions; want terminated and none", state, s.Subscriptions())
	}
}

func TestSubscribeRefused(t *testing.T) {
	tests := []struct {
		name                  string
		user, tag, exp, event string
		code                  int
	}{
		{"other event", "1001", "", "600", "presence", 489},
		{"no event", "1001", "", "600", "", 489},
		{"another mailbox", "1002", "", "600", "message-summary", 403},
		{"too brief", "1001", "", "10", "message-summary", 423},
		{"bad expires", "1001", "", "soon", "message-summary", 400},
		{"unknown dialog", "1001", "nope", "600", "message-summary", 481},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPhone(200)
			s, r := newTestServer(&counts{}, p)
			defer s.Close()
			s.HandleSubscribe(subscribeReq(t, tt.user, tt.tag, tt.exp, tt.event), nil)
			if res := r.last(t); res.StatusCode != tt.code {
				t.Fatalf("answered %d, want %d", res.StatusCode, tt.code)
			}
			if s.Subscriptions() != 0 || len(p.seen) != 0 {
				t.Fatal("a refused SUBSCRIBE made a subscription or a NOTIFY")
			}
		})
	}
}

// A phone that answers 481 has forgotten the dialog: the subscription goes.
func TestNotifyRejectedDropsSubscription(t *testing.T) {
	p := newPhone(481)
	s, _ := newTestServer(&counts{}, p)
	defer s.Close()
	s.HandleSubscribe(subscribeReq(t, "1001", "", "", "message-summary"), nil)
	p.next(t)
	deadline := time.Now().Add(5 * time.Second)
	for s.Subscriptions() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Subscriptions() != 0 {
		t.Fatal("subscription kept after 481")
	}
}

func TestSummary(t *testing.T) {
	body := Summary{Account: "sip:1001@h", New: 2, Old: 3}.Body()
	if string(body) != "Messages-Waiting: yes\r\nMessage-Account: sip:1001@h\r\nVoice-Message: 2/3\r\n" {
		t.Fatalf("body %q", body)
	}
	waiting, s, err := ParseSummary([]byte("Messages-Waiting: no\nVoice-Message: 0/4 (0/0)\n"))
	if err != nil || waiting || s.New != 0 || s.Old != 4 {
		t.Fatalf("parse = %v %+v %v", waiting, s, err)
	}
	for _, bad := range []string{"", "Voice-Message: 1/1", "Messages-Waiting: maybe", "Messages-Waiting: yes\nVoice-Message: x"} {
		if _, _, err := ParseSummary([]byte(bad)); err == nil {
			t.Errorf("ParseSummary(%q) accepted", bad)
		}
	}
}

func FuzzParseSummary(f *testing.F) {
	f.Add([]byte("Messages-Waiting: yes\r\nMessage-Account: sip:1001@h\r\nVoice-Message: 2/3\r\n"))
	f.Add([]byte("Messages-Waiting: no\nVoice-Message: 0/4 (0/0)"))
	f.Add([]byte(":::\n\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		waiting, s, err := ParseSummary(body)
		if err != nil {
			return
		}
		again, s2, err := ParseSummary(Summary{Account: s.Account, New: s.New, Old: s.Old}.Body())
		if err != nil || again != (s.New > 0) || s2.New != s.New || s2.Old != s.Old {
			t.Fatalf("round trip of %+v (waiting %v): %v %+v %v", s, waiting, again, s2, err)
		}
	})
}

type bindings []store.Binding

func (b bindings) Lookup(ext string) []store.Binding {
	var out []store.Binding
	for _, x := range b {
		if x.Ext == ext {
			out = append(out, x)
		}
	}
	return out
}

// With Unsolicited, an extension without a subscription gets a NOTIFY on
// each registered device; without it, nothing is sent.
func TestUnsolicitedNotify(t *testing.T) {
	regs := bindings{{Ext: "1003", Contact: "sip:1003@198.18.0.3:5060", Transport: "udp", Source: "198.18.0.3:5060"}}
	for _, on := range []bool{true, false} {
		p := newPhone(200)
		s := New(Config{Host: "192.0.2.1", Unsolicited: on, Bindings: regs}, &counts{new: 2}, fakeAuth{}, &responses{}, p, slog.New(slog.DiscardHandler))
		s.MailboxChanged("1003")
		s.MailboxChanged("1004") // not registered
		s.Close()                // waits for the NOTIFYs in flight
		if !on {
			if len(p.seen) != 0 {
				t.Fatal("unsolicited NOTIFY sent while off")
			}
			continue
		}
		req, state, waiting, sum := p.next(t)
		if req.Recipient.String() != "sip:1003@198.18.0.3:5060" || req.Destination() != "198.18.0.3:5060" ||
			state != "active" || !waiting || sum.New != 2 || len(p.seen) != 0 {
			t.Fatalf("unsolicited NOTIFY to %s (%s): %q %v %+v", req.Recipient.String(), req.Destination(), state, waiting, sum)
		}
	}
}
