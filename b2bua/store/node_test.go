package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Two nodes sharing one database: each CDR names its node, and a node
// coming back closes only its own calls cut by a crash, at its own
// heartbeat; the other node's calls in progress stay open.
func TestNodesShareCDRs(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		loc := db.location(t)
		open := func(node string) *Store {
			var s *Store
			var err error
			if db.pg {
				s, err = OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: loc, Node: node})
			} else {
				s, err = OpenConfig(ctx, Config{DSN: loc, Node: node})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
		a, b := open("a"), open("b")
		if a.Node() != "a" || a.Driver() != db.name {
			t.Fatalf("store a: node %q driver %q", a.Node(), a.Driver())
		}
		start := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
		if err := a.SaveCDRs(ctx, []CDR{{UID: "a1", State: CDRUp, CallID: "a1", Start: start, Answer: start},
			{CallID: "a0", Start: start, End: start, Cause: "busy", SIPCode: 486}}); err != nil {
			t.Fatal(err)
		}
		if err := b.SaveCDRs(ctx, []CDR{{UID: "b1", State: CDRUp, CallID: "b1", Start: start, Answer: start},
			{CallID: "x", Node: "elsewhere", Start: start, End: start}}); err != nil {
			t.Fatal(err)
		}
		// Later than every row's update, so the heartbeat is the end.
		beatA := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
		beatB := beatA.Add(time.Hour)
		if err := a.SetCDRHeartbeat(ctx, beatA); err != nil {
			t.Fatal(err)
		}
		if err := b.SetCDRHeartbeat(ctx, beatB); err != nil {
			t.Fatal(err)
		}

		// Node a crashed and comes back.
		a2 := open("a")
		if n, err := a2.CloseInterruptedCDRs(ctx); err != nil || n != 1 {
			t.Fatalf("a CloseInterruptedCDRs = %d, %v; want 1", n, err)
		}
		still, err := b.OpenCDRs(ctx)
		if err != nil || len(still) != 1 || still[0].UID != "b1" || still[0].Node != "b" {
			t.Fatalf("open after a's restart = %+v, %v; want b's call only", still, err)
		}
		got, err := b.CDRsOfCall(ctx, "a1")
		if err != nil || len(got) != 1 {
			t.Fatalf("CDRsOfCall(a1) = %v, %v", got, err)
		}
		if c := got[0]; c.Node != "a" || c.State != CDRInterrupted || !c.End.Equal(beatA) {
			t.Errorf("a's interrupted call: node %q state %q end %v; want a, interrupted, %v (a's heartbeat)", c.Node, c.State, c.End, beatA)
		}
		nodes := map[string]string{}
		all, err := a.CDRs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range all {
			nodes[c.CallID] = c.Node
		}
		if want := map[string]string{"a0": "a", "a1": "a", "x": "elsewhere"}; len(nodes) != len(want) ||
			nodes["a0"] != "a" || nodes["a1"] != "a" || nodes["x"] != "elsewhere" {
			t.Errorf("finished CDRs by node = %v, want %v", nodes, want)
		}
	})
}

func TestOpenConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []Config{{Driver: "oracle", DSN: "x"}, {Driver: DriverPostgres}, {Driver: DriverSQLite}} {
		if s, err := OpenConfig(ctx, cfg); err == nil {
			_ = s.Close()
			t.Errorf("OpenConfig(%+v) succeeded, want error", cfg)
		}
	}
}

// A PostgreSQL schema newer than this build is refused, as on SQLite.
func TestOpenNewerSchemaPostgres(t *testing.T) {
	db := backend{name: DriverPostgres, pg: true}
	loc := db.location(t)
	s := db.openAt(t, loc)
	if _, err := s.writer.ExecContext(t.Context(), `UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	if s2, err := db.open(t.Context(), loc); err == nil {
		_ = s2.Close()
		t.Fatal("open of a newer schema succeeded, want error")
	}
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                         `SELECT 1`,
		`a = ? AND b IN (?, ?)`:            `a = $1 AND b IN ($2, $3)`,
		`x = '?' AND y = ? AND "q?" = ?`:   `x = '?' AND y = $1 AND "q?" = $2`,
		`SELECT ?::text, ?::bytea WHERE ?`: `SELECT $1::text, $2::bytea WHERE $3`,
		`s = 'it''s ?' AND t = ?`:          `s = 'it''s ?' AND t = $1`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRebind: the rewrite keeps every byte but the placeholders, and
// numbers them from 1 without gaps.
func FuzzRebind(f *testing.F) {
	f.Add(`a = ? AND b = '?' AND c = ?`)
	f.Add(`'unterminated ?`)
	f.Fuzz(func(t *testing.T, q string) {
		if strings.Contains(q, "$") {
			return // the count below would see the input's own
		}
		out := rebind(q)
		if len(out) < len(q) {
			t.Fatalf("rebind(%q) = %q: shorter", q, out)
		}
		n := 0
		for i := 0; i < len(out); i++ {
			if out[i] == '$' && i+1 < len(out) && out[i+1] >= '1' && out[i+1] <= '9' {
				n++
			}
		}
		if n > 0 && !strings.Contains(out, "$"+strconv.Itoa(n)) {
			t.Fatalf("rebind(%q) = %q: placeholder $%d missing", q, out, n)
		}
	})
}
