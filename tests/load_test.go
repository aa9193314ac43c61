package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// A bounded load run: sipp places 1000 authenticated calls at 50 a second
// to the test number (answered, the test audio plays), each hung up by the
// caller after a second. Every call must succeed, and after a clean stop
// every call has exactly one CDR, ended normally by the caller, and
// nothing is logged as an error. The rate limit is raised: all calls come
// from one address.
func TestLoadAuthenticatedCalls(t *testing.T) {
	const calls = 1000
	cfg := writeConfig(t, "rate_limit:\n  invite: {rate: 1000, burst: 2000}\n")
	s := startServer(t, "", "--config", cfg, "--log-level", "info")
	sink := newRTPPeer(t) // the test audio of every call goes here
	code, logs := sippRun{scenario: "call_auth_bye.xml", transport: "udp", users: [][2]string{{"1001", testUsers["1001"]}},
		keys: map[string]string{"rtpport": strconv.Itoa(sink.port())}, service: "07010002000",
		calls: calls, rate: 50, limit: 150 * time.Second}.run(t, s.addr("udp"))
	if code != 0 {
		t.Fatalf("sipp exited %d, want 0 (every call successful):\n%s", code, tail(logs, 4000))
	}
	if err := s.stop(sigterm); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	out := runCLI(t, "cdr", "list", "--last", "0", "--data", s.data)
	ids := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		// START(2 fields) CALLER DESTINATION TARGET CAUSE DURATION SIDE SIP Q850 CODECS CALL-ID
		if len(f) != 12 || f[2] != "1001" || f[3] != "07010002000" || f[5] != "normal" || f[7] != "caller" {
			t.Fatalf("unexpected CDR: %q", line)
		}
		ids[f[11]]++
	}
	if len(ids) != calls {
		t.Fatalf("%d calls with a CDR, want %d", len(ids), calls)
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("call %s has %d CDRs", id, n)
		}
	}
	if _, packets := sink.received(); packets == 0 {
		t.Fatal("no test audio reached the callers")
	}
	for _, line := range strings.Split(s.logs(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Fatalf("error logged under load: %s", line)
		}
	}
}

// tail is the end of a long text, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
