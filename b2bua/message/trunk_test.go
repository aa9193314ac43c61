package message

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

const carrierSource = "127.0.0.2:5060"

// fakeTrunks: requests from carrierSource are the carrier "carrier"'s,
// for the Request-URI's user; what is sent out is recorded and answered
// code (0: no answer, 408 with an error).
type fakeTrunks struct {
	code int
	mu   sync.Mutex
	sent []trunkSend
}

type trunkSend struct{ target, caller, name, ct, body string }

func (f *fakeTrunks) TrunkOf(req *sip.Request) (string, string, bool) {
	if req.Source() != carrierSource {
		return "", "", false
	}
	return "carrier", req.Recipient.User, true
}

func (f *fakeTrunks) TrunkMessage(_ context.Context, target, caller, name, ct string, body []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, trunkSend{target, caller, name, ct, string(body)})
	if f.code == 0 {
		return 408, errors.New("no answer")
	}
	return f.code, nil
}

func (f *fakeTrunks) got() []trunkSend {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]trunkSend(nil), f.sent...)
}

// planFunc is an on_message written in Go.
type planFunc func(m dialplan.Message) dialplan.MessageDecision

func (p planFunc) OnMessage(_ context.Context, m dialplan.Message) (dialplan.MessageDecision, error) {
	return p(m), nil
}

// toTrunkPlan sends 0 + number out through the carrier, and anything
// else to the extension the number ends in; it notes the msg.trunk seen.
func toTrunkPlan(seen *[]string) planFunc {
	return func(m dialplan.Message) dialplan.MessageDecision {
		*seen = append(*seen, m.Trunk)
		if n, ok := strings.CutPrefix(m.To, "00"); ok { // as msg:set_caller("4930" .. msg.from)
			return dialplan.MessageDecision{Handled: true, Deliver: []string{"trunk/carrier/" + n}, CallerNumber: "4930" + m.From}
		}
		if n, ok := strings.CutPrefix(m.To, "0"); ok {
			return dialplan.MessageDecision{Handled: true, Deliver: []string{"trunk/carrier/" + n}}
		}
		return dialplan.MessageDecision{Handled: true, Deliver: []string{"user/" + m.To[len(m.To)-4:]}}
	}
}

func fromCarrier(from, to, body string) *sip.Request {
	req := message(from, to, []byte(body), false)
	req.SetSource(carrierSource)
	return req
}

func TestMessageOutThroughTrunk(t *testing.T) {
	var seen []string
	tr := &fakeTrunks{code: 202}
	r := newRig(t, Config{Dialplan: toTrunkPlan(&seen), Trunks: tr})
	req := message("1001", "04930555", []byte("héllo carrier\x00"), true)
	req.From().DisplayName = "Front desk"
	r.svc.HandleMessage(req, nil)
	if c := r.resp.last(t); c != 202 {
		t.Fatalf("carrier accepted (202): status %d, want 202", c)
	}
	want := trunkSend{"trunk/carrier/4930555", "1001", "Front desk", "application/vnd.test+json; charset=utf-8", "héllo carrier\x00"}
	if got := tr.got(); len(got) != 1 || got[0] != want {
		t.Fatalf("sent to the trunk %+v, want %+v", got, want)
	}
	tr.code = 486
	r.svc.HandleMessage(message("1001", "04930555", []byte("x"), true), nil)
	if c := r.resp.last(t); c != 486 {
		t.Fatalf("carrier refused (486): status %d, want 486", c)
	}
	tr.code = 0
	r.svc.HandleMessage(message("1001", "04930555", []byte("x"), true), nil)
	if c := r.resp.last(t); c != 408 {
		t.Fatalf("carrier silent: status %d, want 408", c)
	}
	tr.code = 200
	r.svc.HandleMessage(message("1001", "00123", []byte("presented"), true), nil)
	if c := r.resp.last(t); c != 200 {
		t.Fatalf("carrier accepted (200): status %d, want 200", c)
	}
	if got := tr.got(); got[len(got)-1].caller != "49301001" || got[len(got)-1].target != "trunk/carrier/123" {
		t.Fatalf("msg:set_caller: sent %+v, want caller 49301001", got[len(got)-1])
	}
	if len(seen) != 4 || seen[0] != "" {
		t.Fatalf("msg.trunk of an extension's message: %q, want \"\"", seen)
	}
}

func TestUnauthenticatedNeverReachesTrunk(t *testing.T) {
	var seen []string
	tr := &fakeTrunks{code: 200}
	r := newRig(t, Config{Dialplan: toTrunkPlan(&seen), Trunks: tr})
	r.svc.HandleMessage(message("1001", "04930555", []byte("x"), false), nil)
	if c := r.resp.last(t); c != 407 {
		t.Fatalf("unauthenticated: status %d, want 407", c)
	}
	// A carrier's message routed back out to a carrier: refused as well.
	r.svc.HandleMessage(fromCarrier("+15551234", "04930555", "loop"), nil)
	if c := r.resp.last(t); c != 403 {
		t.Fatalf("carrier to carrier: status %d, want 403", c)
	}
	if got := tr.got(); len(got) != 0 || len(seen) != 1 || seen[0] != "carrier" {
		t.Fatalf("sent to the trunk %+v (want nothing); on_message saw msg.trunk %q", got, seen)
	}
}

func TestMessageFromTrunk(t *testing.T) {
	for _, withPlan := range []bool{false, true} {
		var seen []string
		cfg := Config{Trunks: &fakeTrunks{code: 200}}
		did := "1002" // without on_message: the DID is the extension
		if withPlan {
			cfg.Dialplan, did = toTrunkPlan(&seen), "5551002"
		}
		r := newRig(t, cfg)
		r.binds["1002"] = []store.Binding{{Ext: "1002", Contact: "sip:a@127.0.0.1:5071", Transport: "udp", Source: "127.0.0.1:5071"}}
		r.send.status["127.0.0.1:5071"] = 200
		r.svc.HandleMessage(fromCarrier("+15551234", did, "from the carrier"), nil) // no credentials
		if c := r.resp.last(t); c != 200 {
			t.Fatalf("on_message %v: status %d, want 200", withPlan, c)
		}
		r.svc.HandleMessage(fromCarrier("+15551234", "5550000", "nobody"), nil)
		if c := r.resp.last(t); c != 404 {
			t.Fatalf("on_message %v: DID of no extension: status %d, want 404", withPlan, c)
		}
		r.svc.Close()
		sent := r.send.sent()
		if len(sent) != 1 || string(sent[0].Body()) != "from the carrier" || sent[0].From().Address.User != "+15551234" {
			t.Fatalf("on_message %v: delivered %d, want the carrier's message from +15551234", withPlan, len(sent))
		}
		if withPlan && (len(seen) != 2 || seen[0] != "carrier") {
			t.Fatalf("msg.trunk %q, want carrier", seen)
		}
	}
}

// msg:reply to a carrier's message goes back through that carrier, from
// the DID, to the number that sent it.
func TestReplyToCarrier(t *testing.T) {
	tr := &fakeTrunks{code: 200}
	r := newRig(t, Config{Trunks: tr, Dialplan: planFunc(func(m dialplan.Message) dialplan.MessageDecision {
		return dialplan.MessageDecision{Handled: true, Reply: "got " + m.Body, Replied: true}
	})})
	// Over UDP the carrier's source could be forged: no reply goes out.
	r.svc.HandleMessage(fromCarrier("+15550000", "5551002", "STOP"), nil)
	if c := r.resp.last(t); c != 200 {
		t.Fatalf("status %d, want 200", c)
	}
	// Over TCP (or TLS) it goes back through the carrier.
	req := fromCarrier("+15551234", "5551002", "STOP")
	req.SetTransport("TCP")
	r.svc.HandleMessage(req, nil)
	if c := r.resp.last(t); c != 200 {
		t.Fatalf("status %d, want 200", c)
	}
	r.svc.Close() // waits for the reply
	want := trunkSend{"trunk/carrier/+15551234", "5551002", "", "text/plain;charset=UTF-8", "got STOP"}
	if got := tr.got(); len(got) != 1 || got[0] != want {
		t.Fatalf("reply sent %+v, want %+v", got, want)
	}
	if n := len(r.send.sent()); n != 0 {
		t.Fatalf("%d MESSAGEs sent to devices, want none", n)
	}
}
