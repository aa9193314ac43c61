package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

func sampleCDRs() []store.CDR {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return []store.CDR{
		{State: store.CDREnded, CallID: "a", Caller: "1001", Destination: "1002", Target: "user/1002", Start: t0,
			Answer: t0.Add(2 * time.Second), End: t0.Add(12 * time.Second), Cause: "normal", SIPCode: 200, Side: "caller",
			Vars: map[string]string{"account": "x,\"y\"\nz"}, Recording: "/data/recordings/a b.wav"},
		{State: store.CDREnded, CallID: "b", Caller: "1003", Destination: "500", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Second),
			Cause: "busy", SIPCode: 486},
		{State: store.CDRInterrupted, CallID: "c", Caller: "1002", Destination: "1001", Target: "user/1001", Start: t0.Add(2 * time.Hour),
			Cause: store.CauseInterrupted, Vars: map[string]string{"stop": "max"}},
	}
}

func TestCDRFilter(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ids := func(cs []store.CDR) string {
		var b strings.Builder
		for _, c := range cs {
			b.WriteString(c.CallID)
		}
		return b.String()
	}
	for _, tt := range []struct {
		f    cdrFilter
		last int
		want string
	}{
		{cdrFilter{}, 0, "abc"},
		{cdrFilter{}, 2, "bc"},
		{cdrFilter{since: t0.Add(time.Minute)}, 0, "bc"},
		{cdrFilter{until: t0.Add(2 * time.Hour)}, 0, "ab"},
		{cdrFilter{ext: "1002"}, 0, "ac"},
		{cdrFilter{ext: "1001"}, 0, "ac"},
		{cdrFilter{ext: "500"}, 0, "b"},
		{cdrFilter{ext: "02"}, 0, ""},
		{cdrFilter{cause: "busy"}, 0, "b"},
		{cdrFilter{cause: "interrupted", ext: "1001"}, 1, "c"},
	} {
		if got := ids(tt.f.apply(sampleCDRs(), tt.last)); got != tt.want {
			t.Errorf("%+v last %d: %q, want %q", tt.f, tt.last, got, tt.want)
		}
	}
}

// CSV and JSON carry every record with its variables, parsed back by the
// standard library whatever the values hold.
func TestCDRExport(t *testing.T) {
	var b bytes.Buffer
	if err := writeCDRsCSV(&b, sampleCDRs()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if rows[1][col["var.account"]] != "x,\"y\"\nz" || rows[3][col["var.stop"]] != "max" || rows[2][col["var.stop"]] != "" ||
		rows[1][col["duration_s"]] != "10.000" || rows[1][col["recording"]] != "/data/recordings/a b.wav" || rows[2][col["recording"]] != "" || rows[2][col["cause"]] != "busy" || rows[1][col["start"]] != "2026-03-01T10:00:00Z" {
		t.Fatalf("csv rows %q", rows)
	}
	b.Reset()
	if err := writeCDRsJSON(&b, sampleCDRs()); err != nil {
		t.Fatal(err)
	}
	var got []cdrJSON
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Vars["stop"] != "max" || got[0].Vars["account"] != "x,\"y\"\nz" || got[1].Answer != nil ||
		got[0].DurationSeconds != 10 || got[0].Target != "user/1002" || got[0].Recording != "/data/recordings/a b.wav" || got[1].Recording != "" {
		t.Fatalf("json %+v", got)
	}
	b.Reset()
	writeCDRs(&b, sampleCDRs()[:1], time.Now())
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], `account="x,\"y\"\nz"`) ||
		!strings.HasSuffix(lines[1], " recording=/data/recordings/a_b.wav") {
		t.Fatalf("table:\n%s", b.String())
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90m":                  now.Add(-90 * time.Minute),
		"2026-02-01T10:00:00Z": time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
		"2026-02-01":           time.Date(2026, 2, 1, 0, 0, 0, 0, time.Local),
		"2026-02-01 10:30":     time.Date(2026, 2, 1, 10, 30, 0, 0, time.Local),
	} {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-5m", "yesterday", "2026-13-01"} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"90m", "2026-02-01", "2026-02-01 10:30", "2026-02-01T10:00:00Z", "-1h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseWhen(s, time.Now())
		if err == nil && got.IsZero() {
			t.Fatalf("%q: zero time without an error", s)
		}
	})
}

// The argument parser never panics and keeps every positional.
func FuzzCommandParse(f *testing.F) {
	f.Add("a\x00--data\x00x\x00b\x00--\x00-c")
	f.Add("--frob")
	f.Add("-h")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		var out bytes.Buffer
		c := newCommand(&out, "fuzz", "", "fuzz")
		c.dataFlag()
		c.fs.Bool("json", false, "")
		pos, err := c.parse(args)
		if err == nil && len(pos) > len(args) {
			t.Fatalf("%q: %d positionals from %d arguments", args, len(pos), len(args))
		}
	})
}
