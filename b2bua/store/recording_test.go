package store

import (
	"testing"
	"time"
)

// A recorded call's record keeps the recording's path through its
// updates (ringing, up, ended), and open records show it too.
func TestCDRRecording(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		start := time.Now().Truncate(time.Millisecond).UTC()
		c := CDR{UID: "r1", State: CDRUp, CallID: "c1", Caller: "1001", Destination: "1002", Start: start, Answer: start,
			Recording: "/data/recordings/call-1.wav"}
		plain := CDR{UID: "r2", State: CDREnded, CallID: "c2", Start: start, End: start, Cause: "busy"}
		if err := st.SaveCDRs(ctx, []CDR{c, plain}); err != nil {
			t.Fatal(err)
		}
		open, err := st.OpenCDRs(ctx)
		if err != nil || len(open) != 1 || open[0].Recording != c.Recording {
			t.Fatalf("open CDRs = %+v, %v", open, err)
		}
		c.State, c.End, c.Cause = CDREnded, start.Add(3*time.Second), "normal"
		if err := st.SaveCDRs(ctx, []CDR{c}); err != nil {
			t.Fatal(err)
		}
		all, err := st.CDRs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].Recording != c.Recording || all[1].Recording != "" {
			t.Fatalf("CDRs = %+v", all)
		}
	})
}
