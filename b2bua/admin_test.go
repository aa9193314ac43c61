package b2bua

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

// An operator lists a bridged call and hangs it up: both legs are
// released with the cause given, the CDR says "admin".
func TestAdminHangup(t *testing.T) {
	b := newFakeLeg("b")
	cdrs := &cdrSink{}
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
		return err
	}), &fakeDialer{targets: map[string]dialOutcome{"user/1002": {leg: b}}}, cdrs, slog.New(slog.DiscardHandler))
	if err := e.Hangup("nope", leg.Normal); !errors.Is(err, ErrNoSuchCall) {
		t.Fatalf("Hangup of an unknown call = %v", err)
	}
	a := newFakeLeg("a")
	done := make(chan struct{})
	go func() {
		e.Serve(context.Background(), a, CallInfo{ID: "c1", Caller: "1001", Destination: "1002", Transport: "wss"})
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	var calls []CallSnapshot
	for {
		calls = e.Calls()
		if len(calls) == 1 && calls[0].State == store.CDRUp && calls[0].CodecB != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call never showed up bridged: %+v", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if c := calls[0]; c.ID != "c1" || c.Caller != "1001" || c.Transport != "wss" || c.Target != "user/1002" || c.CodecA != "PCMU" || c.Answer.IsZero() {
		t.Fatalf("snapshot %+v", c)
	}
	if err := e.Hangup("c1", leg.Busy); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
	}
	final := cdrs.all()
	if len(final) != 1 || final[0].Cause != CauseAdmin || final[0].Side != "admin" || final[0].Q850 != leg.Busy.Q850 {
		t.Fatalf("CDR %+v, want cause admin", final)
	}
	if !slices.Contains(a.history(), "hangup busy 486") || !slices.ContainsFunc(b.history(), func(s string) bool { return strings.HasPrefix(s, "hangup ") }) {
		t.Fatalf("legs not both hung up: a %v, b %v", a.history(), b.history())
	}
	if n := len(e.Calls()); n != 0 {
		t.Fatalf("%d calls left", n)
	}
}
