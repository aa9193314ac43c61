package store

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

func TestCDRWriterLosesNothing(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := context.Background()
		st, err := db.open(ctx, db.location(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		w := NewCDRWriter(st, time.Hour, slog.New(slog.DiscardHandler)) // no timed flush: Close must save
		start := time.Now().Truncate(time.Millisecond)
		const n = 5000 // more than the queue holds: some are saved synchronously
		for i := 0; i < n; i++ {
			w.Write(CDR{CallID: fmt.Sprintf("c%d", i), Caller: "1001", Destination: "1002", Start: start,
				Answer: start.Add(time.Second), End: start.Add(3 * time.Second), Cause: "normal", SIPCode: 200, Q850: 16, Side: "caller", CodecA: "PCMU", CodecB: "PCMA"})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		all, err := st.CDRs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != n {
			t.Fatalf("%d CDRs saved, want %d", len(all), n)
		}
		last, err := st.CDRs(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		c := last[1]
		if len(last) != 2 || c.Duration() != 2*time.Second || c.CodecB != "PCMA" || c.Q850 != 16 || !c.Start.Equal(start) {
			t.Fatalf("last CDRs = %+v", last)
		}
	})
}

// A call's row is written as it starts, updated when answered and when it
// ends: one row, listed as finished only once it has ended; writes that
// arrive late never take it back.
func TestCDRLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		start := time.Now().Truncate(time.Millisecond).UTC()
		c := CDR{UID: "u1", State: CDRRinging, CallID: "c1", Caller: "1001", Destination: "1002", Start: start}
		step := func(c CDR, wantOpen, wantDone int) {
			t.Helper()
			if err := st.SaveCDRs(ctx, []CDR{c}); err != nil {
				t.Fatal(err)
			}
			open, err := st.OpenCDRs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			done, err := st.CDRs(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(open) != wantOpen || len(done) != wantDone {
				t.Fatalf("after %s: %d open, %d finished; want %d, %d", c.State, len(open), len(done), wantOpen, wantDone)
			}
		}
		step(c, 1, 0)
		c.State, c.Answer, c.Target = CDRUp, start.Add(time.Second), "user/1002"
		step(c, 1, 0)
		up := c
		c.State, c.End, c.Cause, c.SIPCode, c.Side = CDREnded, start.Add(5*time.Second), "normal", 200, "caller"
		step(c, 0, 1)
		up.State = CDRRinging
		step(up, 0, 1) // a late write of an earlier state changes nothing
		got, err := st.CDRs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if g := got[0]; g.State != CDREnded || g.Duration() != 4*time.Second || g.Target != "user/1002" || g.UID != "u1" {
			t.Fatalf("CDR = %+v", g)
		}

		// The final record first, then the start (a full queue reorders):
		// still one finished row.
		late := CDR{UID: "u2", CallID: "c2", Start: start, End: start.Add(time.Second), Cause: "busy"}
		step(late, 0, 2)
		late.State, late.End, late.Cause = CDRRinging, time.Time{}, ""
		step(late, 0, 2)

		if of, err := st.CDRsOfCall(ctx, "c2"); err != nil || len(of) != 1 || of[0].UID != "u2" || of[0].Cause != "busy" {
			t.Fatalf("CDRsOfCall(c2) = %+v, %v", of, err)
		}
		if of, err := st.CDRsOfCall(ctx, "c3"); err != nil || len(of) != 0 {
			t.Fatalf("CDRsOfCall(c3) = %+v, %v", of, err)
		}
	})
}

// Rows still open at start are closed as interrupted at the last time the
// process was known alive; finished rows are left alone.
func TestCloseInterruptedCDRs(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		start := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
		recs := []CDR{
			{UID: "ringing", State: CDRRinging, CallID: "r", Start: start},
			{UID: "up", State: CDRUp, CallID: "u", Start: start, Answer: start.Add(2 * time.Second), CodecA: "PCMU"},
			{UID: "done", State: CDREnded, CallID: "d", Start: start, Answer: start, End: start.Add(time.Second), Cause: "normal", SIPCode: 200},
			{CallID: "legacy", Start: start, End: start, Cause: "busy", SIPCode: 486},
		}
		if err := st.SaveCDRs(ctx, recs); err != nil {
			t.Fatal(err)
		}
		beat := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC() // later than every row's update
		if err := st.SetCDRHeartbeat(ctx, beat); err != nil {
			t.Fatal(err)
		}
		n, err := st.CloseInterruptedCDRs(ctx)
		if err != nil || n != 2 {
			t.Fatalf("CloseInterruptedCDRs = %d, %v; want 2", n, err)
		}
		if open, err := st.OpenCDRs(ctx); err != nil || len(open) != 0 {
			t.Fatalf("open after closing: %v, %v", open, err)
		}
		all, err := st.CDRs(ctx, 0)
		if err != nil || len(all) != 4 {
			t.Fatalf("CDRs = %v, %v", all, err)
		}
		byID := map[string]CDR{}
		for _, c := range all {
			byID[c.CallID] = c
		}
		for id, want := range map[string]struct {
			state, cause string
			sip          int
		}{"r": {CDRInterrupted, CauseInterrupted, 0}, "u": {CDRInterrupted, CauseInterrupted, 200},
			"d": {CDREnded, "normal", 200}, "legacy": {CDREnded, "busy", 486}} {
			c := byID[id]
			if c.State != want.state || c.Cause != want.cause || c.SIPCode != want.sip {
				t.Errorf("%s: %+v, want %+v", id, c, want)
			}
		}
		if u := byID["u"]; !u.End.Equal(beat) || u.Duration() != beat.Sub(start.Add(2*time.Second)) || u.Side != "system" {
			t.Errorf("interrupted call ends %v (duration %v), want at the heartbeat %v", u.End, u.Duration(), beat)
		}
		if n, err := st.CloseInterruptedCDRs(ctx); err != nil || n != 0 {
			t.Fatalf("second close = %d, %v; want 0", n, err)
		}
	})
}

// Without a heartbeat, an interrupted call ends at its row's last update.
func TestCloseInterruptedWithoutHeartbeat(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		start := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
		before := time.Now().Truncate(time.Millisecond)
		if err := st.SaveCDRs(ctx, []CDR{{UID: "x", State: CDRUp, CallID: "x", Start: start, Answer: start}}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CloseInterruptedCDRs(ctx); err != nil {
			t.Fatal(err)
		}
		all, err := st.CDRs(ctx, 0)
		if err != nil || len(all) != 1 {
			t.Fatalf("CDRs = %v, %v", all, err)
		}
		if end := all[0].End; end.Before(before) || end.After(time.Now()) {
			t.Fatalf("interrupted call ends %v, want its last update (after %v)", end, before)
		}
	})
}

// The writer saves a call's open row within its flush interval (a crash
// right after the answer still leaves it) and keeps a heartbeat while calls
// are open.
func TestCDRWriterOpenRowsAndHeartbeat(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		w := newCDRWriter(st, 20*time.Millisecond, 20*time.Millisecond, slog.New(slog.DiscardHandler))
		defer w.Close()
		start := time.Now()
		w.Progress(CDR{UID: "a", State: CDRRinging, CallID: "a", Start: start})
		w.Progress(CDR{UID: "a", State: CDRUp, CallID: "a", Start: start, Answer: start})
		deadline := time.Now().Add(5 * time.Second)
		for {
			open, err := st.OpenCDRs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, hbErr := st.Meta(ctx, heartbeatKey)
			if len(open) == 1 && open[0].State == CDRUp && hbErr == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("open rows %+v, heartbeat error %v", open, hbErr)
			}
			time.Sleep(10 * time.Millisecond)
		}
		w.Write(CDR{UID: "a", State: CDRUp, CallID: "a", Start: start, Answer: start, End: time.Now(), Cause: "normal"})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		w.Write(CDR{CallID: "after-close", Start: start, End: start}) // saved synchronously
		all, err := st.CDRs(ctx, 0)
		if err != nil || len(all) != 2 || all[0].State != CDREnded || all[1].CallID != "after-close" {
			t.Fatalf("CDRs = %+v, %v", all, err)
		}
	})
}
