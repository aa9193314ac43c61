package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

// Every CDR line has the same 12 fields; a call cut by a crash says
// interrupted, one in progress its state and its duration so far.
func TestWriteCDRs(t *testing.T) {
	now := time.Now()
	start := now.Add(-time.Minute)
	var b bytes.Buffer
	writeCDRs(&b, []store.CDR{
		{State: store.CDRInterrupted, CallID: "cut", Caller: "1001", Destination: "1002", Start: start,
			Answer: start, End: start.Add(30 * time.Second), Cause: store.CauseInterrupted, SIPCode: 200, Side: "system"},
		{State: store.CDRUp, CallID: "live", Caller: "1001", Destination: "1002", Start: start, Answer: start.Add(20 * time.Second)},
		{State: store.CDRRinging, CallID: "ringing", Caller: "1001", Destination: "1002", Start: start},
	}, now)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := [][2]string{{"interrupted", "30s"}, {"up", "40s"}, {"ringing", "0s"}}
	if len(lines) != 1+len(want) {
		t.Fatalf("output:\n%s", b.String())
	}
	for i, w := range want {
		f := strings.Fields(lines[i+1])
		if len(f) != 12 || f[5] != w[0] || f[6] != w[1] {
			t.Errorf("line %q: want 12 fields, cause %s, duration %s", lines[i+1], w[0], w[1])
		}
	}
}
