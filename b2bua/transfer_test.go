package b2bua

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// fakeNotifier records the sipfrag statuses a referrer was sent.
type fakeNotifier struct {
	mu      sync.Mutex
	codes   []int
	final   chan struct{}
	onFinal func() // the referrer's reaction to the final NOTIFY, if set
}

func newFakeNotifier() *fakeNotifier { return &fakeNotifier{final: make(chan struct{})} }

func (n *fakeNotifier) Notify(_ context.Context, code int, _ string) error {
	n.mu.Lock()
	n.codes = append(n.codes, code)
	n.mu.Unlock()
	if code >= 200 {
		if n.onFinal != nil {
			n.onFinal()
		}
		close(n.final)
	}
	return nil
}

func (n *fakeNotifier) got() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]int(nil), n.codes...)
}

// transferScript routes a call to user/1002 and, run for a transfer (its
// referred_by set), routes 1003 to user/1003 and refuses 1999.
func transferScript(seen chan<- string) scriptFunc {
	return func(ctx context.Context, s dialplan.Session) error {
		by := s.(dialplan.Transferer).ReferredBy()
		if by == "" {
			_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
			return err
		}
		seen <- s.Caller() + "/" + by + " -> " + s.Destination()
		if s.Destination() == "1999" {
			return s.Hangup(ctx, "forbidden")
		}
		ok, why, err := s.Bridge(ctx, []string{"user/" + s.Destination()}, dialplan.BridgeOptions{Timeout: time.Second})
		if !ok && err == nil {
			return s.Hangup(ctx, why)
		}
		return err
	}
}

// The callee (b1) transfers the caller: the dialplan runs for the
// Refer-To target with referred_by set, the referrer hears 100 and then
// the outcome; on success the caller talks to the target and the CDRs
// link the two records; on failure the caller is back with the referrer
// (or the call ends, with the hangup fallback).
func TestCalleeBlindTransfer(t *testing.T) {
	tests := []struct {
		name     string
		target   string
		outcome  dialOutcome
		fallback string
		codes    []int
		joined   string // the leg the caller talks to in the end: "b1" or "b2"
		cdrs     int
	}{
		{name: "answered", target: "1003", outcome: dialOutcome{after: 20 * time.Millisecond}, codes: []int{100, 200}, joined: "b2", cdrs: 2},
		{name: "refused by the dialplan", target: "1999", codes: []int{100, 403}, joined: "b1", cdrs: 1},
		{name: "busy target: reconnect", target: "1003", outcome: dialOutcome{cause: leg.Busy}, codes: []int{100, 486}, joined: "b1", cdrs: 1},
		{name: "busy target: hang up", target: "1003", outcome: dialOutcome{cause: leg.Busy}, fallback: TransferHangup, codes: []int{100, 486}, cdrs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b1, b2 := newFakeLeg("a"), newFakeLeg("b1"), newFakeLeg("b2")
			if tt.outcome.cause.Name == "" {
				tt.outcome.leg = b2
			}
			seen := make(chan string, 1)
			cdrs := &cdrSink{}
			e := New(Config{TransferFallback: tt.fallback}, transferScript(seen),
				&fakeDialer{targets: map[string]dialOutcome{"user/1002": {leg: b1}, "user/1003": tt.outcome}}, cdrs, slog.New(slog.DiscardHandler))
			done := make(chan struct{})
			go func() {
				e.Serve(context.Background(), a, CallInfo{ID: "c1", Caller: "1001", Destination: "1002", Authenticated: true})
				close(done)
			}()
			waitUntil(t, "bridged to b1", func() bool { return b1.output() != nil })
			n := newFakeNotifier()
			b1.events <- leg.Event{Kind: leg.EventRefer, Refer: &leg.Refer{Target: tt.target, Notifier: n}}
			select {
			case <-n.final:
			case <-time.After(5 * time.Second):
				t.Fatal("no final NOTIFY")
			}
			if got := n.got(); !reflect.DeepEqual(got, tt.codes) {
				t.Fatalf("NOTIFY statuses %v, want %v", got, tt.codes)
			}
			if by := <-seen; by != "1001/1002 -> "+tt.target {
				t.Fatalf("the dialplan ran for %q, want caller 1001, referred_by 1002 and destination %s", by, tt.target)
			}
			if tt.joined != "" {
				want := map[string]*fakeLeg{"b1": b1, "b2": b2}[tt.joined]
				waitUntil(t, "caller joined to "+tt.joined, func() bool { return a.output() != nil && want.output() != nil && speaks(a, want) })
				want.peerHangup(leg.Normal)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("call did not end")
			}
			if hung := contains(b1.history(), "hangup normal 0"); hung != (tt.joined != "b1") {
				t.Fatalf("referrer hung up by us: %v; history %v", hung, b1.history())
			}
			recs := cdrs.all()
			if len(recs) != tt.cdrs {
				t.Fatalf("%d CDRs, want %d: %+v", len(recs), tt.cdrs, recs)
			}
			if tt.cdrs == 2 {
				if recs[0].Cause != store.CauseTransferred || recs[1].TransferredFrom != recs[0].UID || recs[1].Target != "user/1003" || recs[1].Destination != "1003" {
					t.Fatalf("CDRs do not link the transfer: %+v", recs)
				}
			}
		})
	}
}

// speaks tells whether a frame a sends reaches b's sink.
func speaks(a, b *fakeLeg) bool {
	before := b.rec.Frames()
	frame := make([]int16, 160)
	media.NewTone(1000, -12, 8000).Next(frame)
	if err := a.output().WriteFrame(frame); err != nil {
		return false
	}
	return b.rec.Frames() > before && audiotest.RMSdBFS(b.rec.PCM()[len(b.rec.PCM())-160:]) > -30
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUntilFor(t, 5*time.Second, what, cond)
}

// waitUntilFor waits up to d for cond.
func waitUntilFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// The caller transfers: blind (the dialplan routes the target) or
// attended (Replaces names the caller's other call, whose callee is
// taken over). Either way the callee ends up talking to the new party,
// the caller is released on every call, and the referrer hears 100, 200.
func TestCallerTransfer(t *testing.T) {
	for _, attended := range []bool{false, true} {
		name := "blind"
		if attended {
			name = "attended"
		}
		t.Run(name, func(t *testing.T) {
			a1, a2, b1, b2 := newFakeLeg("a1"), newFakeLeg("a2"), newFakeLeg("b1"), newFakeLeg("b2")
			seen := make(chan string, 1)
			targets := map[string]dialOutcome{"user/1002": {leg: b1}, "user/1003": {leg: b2}}
			e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
				if s.(dialplan.Transferer).ReferredBy() != "" {
					return transferScript(seen)(ctx, s)
				}
				_, _, err := s.Bridge(ctx, []string{"user/" + s.Destination()}, dialplan.BridgeOptions{})
				return err
			}), &fakeDialer{targets: targets}, &cdrSink{}, slog.New(slog.DiscardHandler))
			var wg sync.WaitGroup
			serve := func(a *fakeLeg, id, dest string) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e.Serve(context.Background(), a, CallInfo{ID: id, Caller: "1001", Destination: dest, Authenticated: true})
				}()
			}
			serve(a1, "c1", "1002")
			waitUntil(t, "bridged to b1", func() bool { return b1.output() != nil })
			r := &leg.Refer{Target: "1003", Notifier: newFakeNotifier()}
			if attended {
				serve(a2, "c2", "1003")
				waitUntil(t, "bridged to b2", func() bool { return b2.output() != nil })
				r.Replaces = &leg.Replaces{CallID: "c2", ToTag: "x", FromTag: "y"}
			}
			n := r.Notifier.(*fakeNotifier)
			// Like baresip, the caller hangs up on the NOTIFY 200 itself,
			// racing our BYE: the transferred call goes on.
			n.onFinal = func() { a1.peerHangup(leg.Normal) }
			a1.events <- leg.Event{Kind: leg.EventRefer, Refer: r}
			select {
			case <-n.final:
			case <-time.After(5 * time.Second):
				t.Fatal("no final NOTIFY")
			}
			if got := n.got(); !reflect.DeepEqual(got, []int{100, 200}) {
				t.Fatalf("NOTIFY statuses %v", got)
			}
			if !attended {
				if got := <-seen; got != "1002/1001 -> 1003" {
					t.Fatalf("the dialplan ran for %q, want the transferred callee 1002 as caller, referred_by 1001", got)
				}
			}
			waitUntil(t, "b1 and b2 joined", func() bool { return speaks(b1, b2) && speaks(b2, b1) })
			for _, a := range []*fakeLeg{a1, a2} {
				if attended && a == a2 {
					waitUntil(t, a.id+" released", func() bool {
						h := a.history()
						return len(h) > 0 && strings.HasPrefix(h[len(h)-1], "hangup ")
					})
				}
			}
			b2.peerHangup(leg.Normal)
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("calls did not end")
			}
			if !contains(b1.history(), "hangup normal 0") {
				t.Fatalf("b1 not hung up after b2 left: %v", b1.history())
			}
		})
	}
}

// call:transfer from a script runs the dialplan again for the target,
// referred_by naming the number first called; a loop of transfers stops.
func TestDialplanTransfer(t *testing.T) {
	b := newFakeLeg("b")
	var seen []string
	var loopErr error
	cdrs := &cdrSink{}
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		tr := s.(dialplan.Transferer)
		seen = append(seen, tr.ReferredBy()+">"+s.Destination())
		switch s.Destination() {
		case "ivr":
			return tr.Transfer(ctx, "loop")
		case "loop":
			if err := tr.Transfer(ctx, "loop"); err != nil {
				loopErr = err
			}
			return tr.Transfer(ctx, "1003")
		}
		go func() { time.Sleep(50 * time.Millisecond); b.peerHangup(leg.Normal) }()
		_, _, err := s.Bridge(ctx, []string{"user/" + s.Destination()}, dialplan.BridgeOptions{})
		return err
	}), &fakeDialer{targets: map[string]dialOutcome{"user/1003": {leg: b}}}, cdrs, slog.New(slog.DiscardHandler))
	e.Serve(context.Background(), newFakeLeg("a"), CallInfo{ID: "c1", Caller: "1001", Destination: "ivr"})
	if loopErr == nil || !strings.Contains(loopErr.Error(), "transfers in a row") {
		t.Fatalf("a transfer loop was not stopped: %v", loopErr)
	}
	if seen[0] != ">ivr" || seen[1] != "ivr>loop" || seen[len(seen)-1] != "loop>1003" {
		t.Fatalf("dialplan runs %q", seen)
	}
	if recs := cdrs.all(); len(recs) != 1 || recs[0].Target != "user/1003" || recs[0].Cause != "normal" {
		t.Fatalf("CDR %+v", recs)
	}
}

// A transfer asked for while the call is not bridged (an IVR waiting for
// digits) is declined at once, and the script goes on.
func TestReferOutsideBridgeDeclined(t *testing.T) {
	a := newFakeLeg("a")
	n := newFakeNotifier()
	collected := make(chan string, 1)
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		if err := s.Answer(ctx); err != nil {
			return err
		}
		a.events <- leg.Event{Kind: leg.EventRefer, Refer: &leg.Refer{Target: "1003", Notifier: n}}
		select {
		case <-n.final:
		case <-time.After(5 * time.Second):
		}
		a.events <- leg.Event{Kind: leg.EventDTMF, Digit: '5'}
		d, err := s.Collect(ctx, dialplan.CollectOptions{Max: 1, Timeout: 5 * time.Second})
		collected <- d
		return err
	}), &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	e.Serve(context.Background(), a, CallInfo{ID: "c1", Caller: "1001", Destination: "ivr"})
	if got := n.got(); !reflect.DeepEqual(got, []int{603}) {
		t.Fatalf("NOTIFY statuses %v, want [603]", got)
	}
	if d := <-collected; d != "5" {
		t.Fatalf("the script collected %q after the declined transfer, want 5", d)
	}
}

// An INVITE with Replaces naming a ringing branch picks the call up: the
// caller is answered and joined to the picking leg; a pickup of a call
// that does not exist, or from a stranger, is refused.
// pickupScript is a dialplan with on_pickup: allow decides.
type pickupScript struct {
	scriptFunc
	allow func(p dialplan.Pickup) (dialplan.PickupDecision, error)
}

func (s pickupScript) OnPickup(_ context.Context, p dialplan.Pickup) (dialplan.PickupDecision, error) {
	return s.allow(p)
}

func TestPickup(t *testing.T) {
	a, p := newFakeLeg("a"), newFakeLeg("p")
	cdrs := &cdrSink{}
	var asked []dialplan.Pickup
	var mu sync.Mutex
	e := New(Config{}, pickupScript{scriptFunc: func(ctx context.Context, s dialplan.Session) error {
		_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{Timeout: 5 * time.Second})
		return err
	}, allow: func(p dialplan.Pickup) (dialplan.PickupDecision, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, p)
		switch p.By {
		case "1003":
			return dialplan.PickupDecision{Handled: true, Allow: true}, nil
		case "1004":
			return dialplan.PickupDecision{}, errors.New("script failed")
		}
		return dialplan.PickupDecision{Handled: true}, nil
	}}, &fakeDialer{targets: map[string]dialOutcome{"user/1002": {never: true, progress: []leg.Progress{{Code: 180}}}}}, cdrs, slog.New(slog.DiscardHandler))
	stranger := newFakeLeg("s")
	e.Serve(context.Background(), stranger, CallInfo{ID: "x", Caller: "9", Pickup: "c1"})
	if h := stranger.history(); len(h) != 1 || h[0] != "hangup forbidden 403" {
		t.Fatalf("a stranger's pickup: %v", h)
	}
	done := make(chan struct{})
	go func() {
		e.Serve(context.Background(), a, CallInfo{ID: "c1", Caller: "1001", Destination: "1002", Authenticated: true})
		close(done)
	}()
	waitUntil(t, "ringing", func() bool { return contains(a.history(), "180") })
	none := newFakeLeg("n")
	e.Serve(context.Background(), none, CallInfo{ID: "y", Caller: "1003", Authenticated: true, Pickup: "nope"})
	if h := none.history(); len(h) != 1 || h[0] != "hangup not-found 481" {
		t.Fatalf("pickup of no call: %v", h)
	}
	for _, by := range []string{"1005", "1004"} { // on_pickup refuses 1005 and fails for 1004
		refused := newFakeLeg("r" + by)
		e.Serve(context.Background(), refused, CallInfo{ID: "r" + by, Caller: by, Authenticated: true, Pickup: "c1"})
		if h := refused.history(); len(h) != 1 || h[0] != "hangup forbidden 403" {
			t.Fatalf("pickup by %s that on_pickup refuses: %v", by, h)
		}
	}
	if contains(a.history(), "answer") {
		t.Fatalf("a refused pickup answered the call: %v", a.history())
	}
	picked := make(chan struct{})
	go func() {
		e.Serve(context.Background(), p, CallInfo{ID: "c2", Caller: "1003", Authenticated: true, Pickup: "c1"})
		close(picked)
	}()
	waitUntil(t, "picked up", func() bool { return a.output() != nil && p.output() != nil && speaks(a, p) && speaks(p, a) })
	if !contains(p.history(), "answer") || !contains(a.history(), "answer") {
		t.Fatalf("not both answered: %v %v", a.history(), p.history())
	}
	p.peerHangup(leg.Normal)
	for _, ch := range []chan struct{}{done, picked} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("calls did not end")
		}
	}
	if recs := cdrs.all(); len(recs) != 1 || recs[0].Target != "pickup/1003" {
		t.Fatalf("CDRs %+v", recs)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []dialplan.Pickup{{By: "1005", Caller: "1001", Destination: "1002"}, {By: "1004", Caller: "1001", Destination: "1002"},
		{By: "1003", Caller: "1001", Destination: "1002"}}
	if !slices.Equal(asked, want) {
		t.Fatalf("on_pickup saw %+v, want %+v", asked, want)
	}
}
