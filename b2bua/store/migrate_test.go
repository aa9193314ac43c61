package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// A database made by an older version is migrated by Open: its CDRs are
// kept, read as finished, and new calls get open rows.
func TestMigrateCDRsFromVersion2(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open(driverName, dsn(path, writerParams))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range migrations()[:2] {
		if _, err := db.ExecContext(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = 2;
		INSERT INTO cdrs (call_id, caller, destination, start_ms, answer_ms, end_ms, cause, sip_code)
		VALUES ('old', '1001', '1002', %d, %d, %d, 'normal', 200)`,
		start.UnixMilli(), start.UnixMilli(), start.Add(time.Minute).UnixMilli())); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st := openAt(t, path)
	var version int
	if err := st.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != len(migrations()) {
		t.Fatalf("user_version = %d, %v; want %d", version, err, len(migrations()))
	}
	if n, err := st.CloseInterruptedCDRs(ctx); err != nil || n != 0 {
		t.Fatalf("CloseInterruptedCDRs on migrated rows = %d, %v; want 0", n, err)
	}
	if err := st.SaveCDRs(ctx, []CDR{{UID: "new", State: CDRUp, CallID: "new", Start: time.Now(), Answer: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	all, err := st.CDRs(ctx, 0)
	if err != nil || len(all) != 1 {
		t.Fatalf("CDRs = %+v, %v", all, err)
	}
	if old := all[0]; old.CallID != "old" || old.State != CDREnded || old.Duration() != time.Minute || old.UID != "" {
		t.Fatalf("migrated CDR = %+v", old)
	}
	if open, err := st.OpenCDRs(ctx); err != nil || len(open) != 1 || open[0].UID != "new" {
		t.Fatalf("OpenCDRs = %+v, %v", open, err)
	}
}
