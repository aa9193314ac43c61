package store

import (
	"maps"
	"testing"
	"time"
)

// What the dialplan set with call:set is stored with the CDR as JSON and
// read back; an update replaces it; a CDR without vars reads none.
func TestCDRVars(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		start := time.Now().Add(-time.Minute)
		vars := map[string]string{"lang": "en", "quote": `a"b`, "utf8": "é"}
		if err := st.SaveCDRs(ctx, []CDR{{UID: "u1", State: CDRRinging, CallID: "c1", Start: start, Vars: map[string]string{"lang": "de"}}}); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCDRs(ctx, []CDR{
			{UID: "u1", State: CDREnded, CallID: "c1", Start: start, End: time.Now(), Vars: vars},
			{CallID: "c2", Start: start, End: time.Now()},
		}); err != nil {
			t.Fatal(err)
		}
		all, err := st.CDRs(ctx, 0)
		if err != nil || len(all) != 2 {
			t.Fatalf("CDRs = %+v, %v", all, err)
		}
		if !maps.Equal(all[0].Vars, vars) || len(all[1].Vars) != 0 {
			t.Fatalf("vars = %v and %v, want %v and none", all[0].Vars, all[1].Vars, vars)
		}
		var raw string
		if err := st.reader.QueryRowContext(ctx, `SELECT vars FROM cdrs WHERE call_id = 'c2'`).Scan(&raw); err != nil || raw != "{}" {
			t.Fatalf("vars column of a CDR without vars = %q, %v; want {}", raw, err)
		}
	})
}
