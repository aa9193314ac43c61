package message

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

// fakeAuth accepts a request carrying "Proxy-Authorization: EXT" as EXT
// and answers 407 to any other.
type fakeAuth struct{ resp *fakeResp }

func (a fakeAuth) Authenticate(_ context.Context, req *sip.Request, tx sip.ServerTransaction, _ bool) (store.User, bool) {
	h := req.GetHeader("Proxy-Authorization")
	if h == nil {
		a.resp.Respond(tx, sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil))
		return store.User{}, false
	}
	return store.User{Ext: h.Value()}, true
}

type fakeResp struct {
	mu    sync.Mutex
	codes []int
}

func (r *fakeResp) Respond(_ sip.ServerTransaction, res *sip.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = append(r.codes, res.StatusCode)
}

func (r *fakeResp) last(t *testing.T) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.codes) != 1 {
		t.Fatalf("%d responses (%v), want 1", len(r.codes), r.codes)
	}
	c := r.codes[0]
	r.codes = nil
	return c
}

// fakeSender answers by destination: status[dest], 0 meaning no answer.
type fakeSender struct {
	status map[string]int
	mu     sync.Mutex
	got    []*sip.Request
}

func (f *fakeSender) Do(_ context.Context, req *sip.Request, _ ...sipgo.ClientRequestOption) (*sip.Response, error) {
	f.mu.Lock()
	f.got = append(f.got, req)
	f.mu.Unlock()
	code := f.status[req.Destination()]
	if code == 0 {
		return nil, errors.New("timeout")
	}
	return sip.NewResponseFromRequest(req, code, "x", nil), nil
}

func (f *fakeSender) sent() []*sip.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sip.Request(nil), f.got...)
}

type fakeBinds map[string][]store.Binding

func (b fakeBinds) Lookup(ext string) []store.Binding { return b[ext] }

type fakeStore struct {
	mu      sync.Mutex
	msgs    []store.Message
	next    int64
	queries int // PendingMessages calls
}

func (s *fakeStore) User(_ context.Context, ext string) (store.User, error) {
	if ext == "1001" || ext == "1002" || ext == "1003" {
		return store.User{Ext: ext}, nil
	}
	return store.User{}, store.ErrNotFound
}

func (s *fakeStore) AddMessage(_ context.Context, m store.Message, maxPending int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) >= maxPending {
		return 0, store.ErrFull
	}
	s.next++
	m.ID = s.next
	s.msgs = append(s.msgs, m)
	return m.ID, nil
}

func (s *fakeStore) PendingMessages(_ context.Context, ext string, limit int) ([]store.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	var out []store.Message
	for _, m := range s.msgs {
		if m.Ext == ext && len(out) < limit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *fakeStore) DeleteMessage(_ context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.msgs {
		if m.ID == id {
			s.msgs = append(s.msgs[:i], s.msgs[i+1:]...)
			return nil
		}
	}
	return store.ErrNotFound
}

func (s *fakeStore) queried() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

type rig struct {
	svc   *Service
	resp  *fakeResp
	send  *fakeSender
	binds fakeBinds
	st    *fakeStore
}

func newRig(t *testing.T, cfg Config) *rig {
	r := &rig{resp: &fakeResp{}, send: &fakeSender{status: map[string]int{}}, binds: fakeBinds{}, st: &fakeStore{}}
	cfg.Host = "pbx.test"
	r.svc = New(cfg, fakeAuth{r.resp}, r.resp, r.send, r.binds, r.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(r.svc.Close)
	return r
}

func message(from, to string, body []byte, signed bool) *sip.Request {
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: to, Host: "pbx.test"})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "pbx.test"}, Params: sip.NewParams()})
	req.AppendHeader(&sip.ToHeader{Address: req.Recipient})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/vnd.test+json; charset=utf-8"))
	if signed {
		req.AppendHeader(sip.NewHeader("Proxy-Authorization", from))
	}
	req.SetBody(body)
	return req
}

func TestDeliveredToEveryDevice(t *testing.T) {
	r := newRig(t, Config{})
	r.binds["1002"] = []store.Binding{
		{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"},
		{Ext: "1002", Contact: "sip:b@127.0.0.1:5072;transport=ws", Transport: "ws", Source: "127.0.0.1:5072"},
	}
	r.send.status["127.0.0.1:5071"] = 486
	r.send.status["127.0.0.1:5072"] = 200
	body := []byte(`{"text":"hi \u00e9"}` + "\x00")
	r.svc.HandleMessage(message("1001", "1002", body, true), nil)
	if c := r.resp.last(t); c != 200 {
		t.Fatalf("status %d, want 200", c)
	}
	r.svc.Close() // waits for the send to the other device
	sent := r.send.sent()
	if len(sent) != 2 {
		t.Fatalf("%d MESSAGEs sent, want one per device (2)", len(sent))
	}
	for _, req := range sent {
		if !bytes.Equal(req.Body(), body) || req.ContentType().Value() != "application/vnd.test+json; charset=utf-8" {
			t.Errorf("forwarded body %q, type %q: not untouched", req.Body(), req.ContentType().Value())
		}
		if req.From().Address.User != "1001" || req.To().Address.User != "1002" {
			t.Errorf("forwarded From %s To %s", req.From().Address.String(), req.To().Address.String())
		}
	}
	if r.st.count() != 0 {
		t.Fatal("a delivered message was stored")
	}
}

func TestRefusals(t *testing.T) {
	r := newRig(t, Config{MaxBody: 16})
	r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
	r.send.status["127.0.0.1:5071"] = 200
	cases := []struct {
		name string
		req  *sip.Request
		want int
	}{
		{"unauthenticated", message("1001", "1002", []byte("hi"), false), 407},
		{"too large", message("1001", "1002", bytes.Repeat([]byte("x"), 17), true), 413},
		{"no such extension", message("1001", "9999", []byte("hi"), true), 404},
	}
	for _, c := range cases {
		r.svc.HandleMessage(c.req, nil)
		if got := r.resp.last(t); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if n := len(r.send.sent()); n != 0 {
		t.Fatalf("%d refused MESSAGEs reached a device", n)
	}
	r.svc.HandleMessage(message("1001", "1002", bytes.Repeat([]byte("x"), 16), true), nil)
	if got := r.resp.last(t); got != 200 {
		t.Fatalf("a body of exactly the limit: status %d, want 200", got)
	}
}

func TestNoDeviceNoStore(t *testing.T) {
	r := newRig(t, Config{NoStore: true})
	r.svc.HandleMessage(message("1001", "1002", []byte("hi"), true), nil)
	if c := r.resp.last(t); c != 480 {
		t.Fatalf("status %d, want 480", c)
	}
	// A device that never answers is no delivery either.
	r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
	r.svc.HandleMessage(message("1001", "1002", []byte("hi"), true), nil)
	if c := r.resp.last(t); c != 480 {
		t.Fatalf("device silent: status %d, want 480", c)
	}
}

func TestStoredThenDeliveredAtRegister(t *testing.T) {
	r := newRig(t, Config{MaxPending: 2})
	for i, body := range []string{"one", "two", "three"} {
		r.svc.HandleMessage(message("1001", "1002", []byte(body), true), nil)
		want := 202
		if i == 2 {
			want = 480 // over MaxPending
		}
		if c := r.resp.last(t); c != want {
			t.Fatalf("message %q: status %d, want %d", body, c, want)
		}
	}
	// A REGISTER of another extension, or one without credentials, flushes nothing.
	reg := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "pbx.test"})
	reg.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: "pbx.test"}})
	registered := false
	h := r.svc.AfterRegister(func(*sip.Request, sip.ServerTransaction) {
		if registered {
			r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
		}
	})
	r.send.status["127.0.0.1:5071"] = 200
	h(reg, nil)
	r.svc.Close()
	if len(r.send.sent()) != 0 {
		t.Fatal("sent without a device registered")
	}
	r.svc.closed, r.svc.sendsClosed = false, false
	registered = true
	reg.AppendHeader(sip.NewHeader("Authorization", "Digest x"))
	h(reg, nil)
	deadline := time.Now().Add(10 * time.Second)
	for r.st.count() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r.svc.Close()
	sent := r.send.sent()
	if r.st.count() != 0 || len(sent) != 2 {
		t.Fatalf("after registering: %d still stored, %d sent; want 0 and 2", r.st.count(), len(sent))
	}
	if string(sent[0].Body()) != "one" || string(sent[1].Body()) != "two" {
		t.Fatalf("delivered %q then %q, want oldest first", sent[0].Body(), sent[1].Body())
	}
}

// A REGISTER refresh of an extension a flush found with nothing stored
// queries nothing (issue 20: it was an SQLite read per REGISTER); a
// message stored later is delivered at the next one.
func TestFlushSkipsKnownEmpty(t *testing.T) {
	r := newRig(t, Config{})
	r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
	r.send.status["127.0.0.1:5071"] = 200
	flush := func() {
		r.svc.Flush("1002")
		r.svc.flushers.Wait()
	}
	flush()
	flush()
	flush()
	if n := r.st.queried(); n != 1 {
		t.Fatalf("%d queries for three flushes of an empty mailbox, want 1", n)
	}
	delete(r.binds, "1002")
	r.svc.HandleMessage(message("1001", "1002", []byte("later"), true), nil)
	if c := r.resp.last(t); c != 202 {
		t.Fatalf("status %d, want 202 (stored)", c)
	}
	r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
	flush()
	if sent := r.send.sent(); len(sent) != 1 || string(sent[0].Body()) != "later" || r.st.count() != 0 {
		t.Fatalf("after storing: sent %d, %d still stored; want the message delivered", len(sent), r.st.count())
	}
	// A flush that started before a message was stored does not mark the
	// mailbox empty.
	r.svc.mu.Lock()
	before := r.svc.adds
	r.svc.adds++ // what keep does
	r.svc.mu.Unlock()
	r.svc.markNone("1002", before)
	if r.svc.none["1002"] {
		t.Fatal("marked empty although a message was stored during the flush")
	}
}

func TestStoredDroppedWhenRefusedKeptWhenSilent(t *testing.T) {
	r := newRig(t, Config{})
	for _, body := range []string{"refused", "kept"} {
		r.svc.HandleMessage(message("1001", "1002", []byte(body), true), nil)
		if c := r.resp.last(t); c != 202 {
			t.Fatalf("status %d, want 202", c)
		}
	}
	r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
	r.send.status["127.0.0.1:5071"] = 415
	r.svc.Flush("1002") // the first is refused (dropped), the second too
	r.svc.Close()
	if len(r.send.sent()) != 2 || r.st.count() != 0 {
		t.Fatalf("sent %d, stored %d; want both tried and dropped", len(r.send.sent()), r.st.count())
	}
	r2 := newRig(t, Config{})
	r2.svc.HandleMessage(message("1001", "1002", []byte("kept"), true), nil)
	r2.resp.last(t)
	r2.binds["1002"] = r.binds["1002"] // no status: the device does not answer
	r2.svc.Flush("1002")
	r2.svc.Close()
	if len(r2.send.sent()) != 1 || r2.st.count() != 1 {
		t.Fatalf("silent device: sent %d, stored %d; want tried once and kept", len(r2.send.sent()), r2.st.count())
	}
}

func TestLiveRefusalRelayed(t *testing.T) {
	r := newRig(t, Config{})
	r.binds["1002"] = []store.Binding{
		{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"},
		{Ext: "1002", Contact: "sip:b@127.0.0.1:5072", Transport: "udp", Source: "127.0.0.1:5072"},
	}
	r.send.status["127.0.0.1:5071"] = 488
	r.send.status["127.0.0.1:5072"] = 415
	r.svc.HandleMessage(message("1001", "1002", []byte("x"), true), nil)
	if c := r.resp.last(t); c != 415 {
		t.Fatalf("every device refused: status %d, want the lowest refusal 415", c)
	}
	if r.st.count() != 0 {
		t.Fatal("a message every device refused was stored")
	}
}

// fakePlan is on_message: "help" gets a reply, "2000" goes to 1001 and
// 1002, "bad" to no extension, anything else is rejected with 606.
type fakePlan struct{}

func (fakePlan) OnMessage(_ context.Context, m dialplan.Message) (dialplan.MessageDecision, error) {
	d := dialplan.MessageDecision{Handled: true}
	switch {
	case m.Body == "help":
		d.Reply, d.Replied = "usage for "+m.From, true
	case m.To == "2000":
		d.Deliver = []string{"1001", "1002"}
	case m.To == "bad":
		d.Deliver = []string{"trunk/x/123"}
	default:
		d.Reject = 606
	}
	return d, nil
}

func TestOnMessageDecisions(t *testing.T) {
	r := newRig(t, Config{Dialplan: fakePlan{}})
	r.binds["1001"] = []store.Binding{{Ext: "1001", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
	r.send.status["127.0.0.1:5071"] = 200
	r.svc.HandleMessage(message("1003", "2000", []byte("to the group"), true), nil)
	if c := r.resp.last(t); c != 200 {
		t.Fatalf("group: status %d, want 200 (1001 took it)", c)
	}
	if r.st.count() != 1 {
		t.Fatalf("group: %d stored, want 1 (for 1002, no device)", r.st.count())
	}
	r.svc.HandleMessage(message("1003", "1002", []byte("x"), true), nil)
	if c := r.resp.last(t); c != 606 {
		t.Fatalf("rejected: status %d, want 606", c)
	}
	r.svc.HandleMessage(message("1003", "bad", []byte("x"), true), nil)
	if c := r.resp.last(t); c != 404 {
		t.Fatalf("target not an extension: status %d, want 404", c)
	}
	r.svc.HandleMessage(message("1001", "help", []byte("help"), true), nil)
	if c := r.resp.last(t); c != 200 {
		t.Fatalf("help: status %d, want 200", c)
	}
	r.svc.Close()
	sent := r.send.sent()
	last := sent[len(sent)-1]
	if len(sent) != 2 || string(last.Body()) != "usage for 1001" || last.From().Address.User != "help" || last.To().Address.User != "1001" {
		t.Fatalf("the reply was not sent back to 1001 from help: %d sent, last %v", len(sent), last)
	}
}
