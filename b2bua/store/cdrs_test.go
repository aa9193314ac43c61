package store

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

func TestCDRWriterLosesNothing(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
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
}
