package store

import (
	"testing"
	"time"
)

// A transferred call's records: the first ends as transferred, the one
// it goes on in names it in transferred_from, also after an update.
func TestCDRTransferredFrom(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		start := time.Now().Truncate(time.Millisecond).UTC()
		first := CDR{UID: "u1", State: CDREnded, CallID: "c1", Caller: "1001", Destination: "1002", Start: start,
			Answer: start, End: start.Add(time.Second), Cause: CauseTransferred, Side: "callee", SIPCode: 200}
		next := CDR{UID: "u2", State: CDRUp, CallID: "c1", Caller: "1001", Destination: "1003", Target: "user/1003",
			Start: start.Add(time.Second), Answer: start.Add(time.Second), TransferredFrom: "u1"}
		if err := st.SaveCDRs(ctx, []CDR{first, next}); err != nil {
			t.Fatal(err)
		}
		next.State, next.End, next.Cause = CDREnded, start.Add(5*time.Second), "normal"
		if err := st.SaveCDRs(ctx, []CDR{next}); err != nil {
			t.Fatal(err)
		}
		all, err := st.CDRs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].Cause != CauseTransferred || all[0].TransferredFrom != "" ||
			all[1].TransferredFrom != "u1" || all[1].UID != "u2" || all[1].Cause != "normal" {
			t.Fatalf("CDRs = %+v", all)
		}
	})
}
