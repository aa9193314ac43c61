package b2bua

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

// A call's record is given to the CDR writer as the call starts (ringing)
// and when it is answered (up), before its final record: a crash in
// between still leaves a row. All three name the same row.
func TestCDRProgress(t *testing.T) {
	b := newFakeLeg("b")
	tests := []struct {
		name    string
		targets map[string]dialOutcome
		callee  *fakeLeg // hangs up once answered
		states  []string
		target  string // the target recorded when the call is up
	}{
		{name: "answered", targets: map[string]dialOutcome{"user/1002": {leg: b}}, callee: b,
			states: []string{store.CDRRinging, store.CDRUp}, target: "user/1002"},
		{name: "busy", targets: map[string]dialOutcome{"user/1002": {cause: leg.Busy}},
			states: []string{store.CDRRinging}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdrs := &cdrSink{}
			e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
				if tt.callee != nil {
					go func() { time.Sleep(50 * time.Millisecond); tt.callee.peerHangup(leg.Normal) }()
				}
				_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
				return err
			}), &fakeDialer{targets: tt.targets}, cdrs, slog.New(slog.DiscardHandler))
			done := make(chan struct{})
			go func() {
				e.Serve(context.Background(), newFakeLeg("a"), CallInfo{ID: "c1", Caller: "1001", Destination: "1002"})
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("call did not end")
			}
			cdrs.mu.Lock()
			progress := append([]store.CDR(nil), cdrs.progress...)
			cdrs.mu.Unlock()
			final := cdrs.all()
			if len(progress) != len(tt.states) || len(final) != 1 {
				t.Fatalf("%d progress records and %d final, want %d and 1", len(progress), len(final), len(tt.states))
			}
			uid := final[0].UID
			if uid == "" || final[0].State != store.CDREnded {
				t.Fatalf("final record %+v: want a UID and state ended", final[0])
			}
			for i, p := range progress {
				if p.State != tt.states[i] || p.UID != uid || p.CallID != "c1" || p.Start.IsZero() || !p.End.IsZero() {
					t.Fatalf("progress record %d = %+v, want state %s of row %s", i, p, tt.states[i], uid)
				}
			}
			if up := progress[len(progress)-1]; up.State == store.CDRUp && (up.Answer.IsZero() || up.Target != tt.target || up.CodecA == "") {
				t.Fatalf("up record %+v: want the answer time, target %s and codec", up, tt.target)
			}
		})
	}
}
