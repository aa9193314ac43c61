package tests

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type liveCallJSON struct {
	ID     string  `json:"id"`
	Caller string  `json:"caller"`
	State  string  `json:"state"`
	Media  string  `json:"media"`
	Age    float64 `json:"age_seconds"`
	A      struct {
		Transport, Codec string
	} `json:"a"`
	B *struct {
		Target, Codec string
	} `json:"b"`
}

// A JsSIP browser calls a baresip desk phone: `softswitch calls` lists the
// call with both legs' codecs; `softswitch calls hangup` ends it (both
// legs released, CDR cause admin); an unknown id is refused in words.
func TestLiveCallsBrowserToPhone(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	p := loginPage(t, s, "1001")
	desk := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 40 * time.Second})
	waitFor(t, 10*time.Second, "phone registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	if out := runCLI(t, "calls", "--data", s.data); out != "no calls in progress\n" {
		t.Fatalf("calls before the call: %q", out)
	}
	p.eval(`phone.setTone(440); phone.call("1002")`, nil)
	p.waitTrue(`phone.inCall()`, 15*time.Second)

	var calls []liveCallJSON
	waitFor(t, 10*time.Second, "the call listed as up", func() bool {
		calls = nil
		if err := json.Unmarshal([]byte(runCLI(t, "calls", "--json", "--data", s.data)), &calls); err != nil {
			t.Fatal(err)
		}
		return len(calls) == 1 && calls[0].State == "up" && calls[0].B != nil && calls[0].B.Codec != ""
	})
	c := calls[0]
	if c.Caller != "1001" || c.A.Transport != "wss" || !strings.EqualFold(c.A.Codec, "opus") ||
		c.B.Target != "user/1002" || c.B.Codec != "PCMU" || c.Media != "transcoded" || c.Age <= 0 {
		t.Fatalf("listed call %+v (b %+v)", c, *c.B)
	}
	text := runCLI(t, "calls", "--data", s.data)
	if !strings.Contains(text, c.ID) || !strings.Contains(text, "wss opus") || !strings.Contains(text, "user/1002 PCMU") {
		t.Fatalf("calls table:\n%s", text)
	}

	if e := runCLIFail(t, "calls", "hangup", "no-such-call", "--data", s.data); !strings.Contains(e, `no call "no-such-call" in progress`) {
		t.Fatalf("hangup of an unknown call: %q", e)
	}
	if e := runCLIFail(t, "calls", "hangup", c.ID, "--cause", "whim", "--data", s.data); !strings.Contains(e, `unknown cause "whim"`) {
		t.Fatalf("hangup with an unknown cause: %q", e)
	}
	if out := runCLI(t, "calls", "hangup", c.ID, "--data", s.data); !strings.Contains(out, "hanging up") {
		t.Fatalf("hangup: %q", out)
	}
	p.waitTrue(`!phone.inCall()`, 10*time.Second)
	waitFor(t, 10*time.Second, "the phone to get its BYE", func() bool {
		return strings.Contains(desk.output(), "sip:1001@"+testHostIP+": session closed") // baresip's words for a BYE
	})
	waitFor(t, 10*time.Second, "the CDR with cause admin", func() bool {
		return strings.Contains(grepLines(runCLI(t, "cdr", "list", "--data", s.data), "1002"), "admin")
	})
	if out := runCLI(t, "calls", "--data", s.data); out != "no calls in progress\n" {
		t.Fatalf("calls after the hangup: %q", out)
	}
}
