package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

type selfTestCheck struct{ ID, State, Verdict string }

// runSelfTest runs the self-test page's checks as extension 1001 and
// answers "yes, I heard it" for the speaker (with the keyboard alone, or
// clicks); it returns the checks once done.
func runSelfTest(t *testing.T, p *page, password string, keyboard bool) map[string]selfTestCheck {
	t.Helper()
	if keyboard {
		p.keys("Tab", "Tab") // past "Back to the phone"
		p.wantFocus("ext")
		p.keys("text:1001", "Tab")
		p.wantFocus("password")
		p.keys("text:"+password, "Enter")
	} else {
		p.eval(fmt.Sprintf(`document.getElementById("ext").value = "1001";
		document.getElementById("password").value = %q;
		document.getElementById("run").click()`, password), nil)
	}
	waitFor(t, 20*time.Second, "the speaker question", func() bool {
		var asked bool
		p.eval(`!document.getElementById("ask").hidden`, &asked)
		return asked
	})
	// The question comes with a tone really playing (440 Hz, 1 s on, 0.5 s off).
	heard := 0
	for i := 0; i < 8 && heard == 0; i++ {
		var w audioWindow
		p.eval(`selftest.speakerTone()`, &w)
		if w.DBFS > -30 && w.Hz > 420 && w.Hz < 460 {
			heard++
		}
		time.Sleep(150 * time.Millisecond)
	}
	if heard == 0 {
		t.Fatal("the speaker check asks without playing its tone")
	}
	if keyboard {
		p.wantFocus("heard-yes")
		p.keys("Enter")
	} else {
		p.eval(`document.getElementById("heard-yes").click()`, nil)
	}
	var list []selfTestCheck
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var done bool
		p.eval(`!selftest.running() && !selftest.summary().startsWith("Testing")`, &done)
		p.eval(`selftest.results()`, &list)
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the self-test did not finish in 60 s: %+v", list)
		}
	}
	out := map[string]selfTestCheck{}
	for _, c := range list {
		out[c.ID] = c
	}
	var summary, report string
	p.eval(`selftest.summary()`, &summary)
	p.eval(`selftest.report()`, &report)
	t.Logf("summary: %s\nreport:\n%s", summary, report)
	for _, c := range list {
		if !strings.Contains(report, c.Verdict) {
			t.Errorf("the report lacks the %s verdict %q", c.ID, c.Verdict)
		}
	}
	return out
}

// The self-test page (linked from the phone) checks the WSS connection,
// the microphone, the speaker (the user confirms), UDP media and an echo
// call: all good on loopback; with UDP to the media address dropped it
// names the blocked port and does not pretend the echo worked.
func TestWebSelfTest(t *testing.T) {
	t.Parallel()
	t.Run("all good", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "")
		p := openPage(t, "https://"+s.addr("https")+"/")
		p.follow(`a[href="selftest"]`)
		checks := runSelfTest(t, p, testUsers["1001"], false)
		for _, id := range []string{"wss", "mic", "speaker", "udp", "echo"} {
			if checks[id].State != "ok" {
				t.Errorf("%s: %s %q, want ok", id, checks[id].State, checks[id].Verdict)
			}
		}
		echo := regexp.MustCompile(`^Your audio comes back clearly: round trip (\d+) ms, loss (\d+\.\d) %, jitter (\d+) ms\. Good for calls\.$`)
		if m := echo.FindStringSubmatch(checks["echo"].Verdict); m == nil || m[2] != "0.0" {
			t.Errorf("echo verdict %q: want round trip, no loss, jitter", checks["echo"].Verdict)
		}
		if v := checks["wss"].Verdict; !strings.Contains(v, "wss://"+s.addr("https")+"/ws") || !strings.Contains(v, "logged in as 1001") {
			t.Errorf("connection verdict %q", v)
		}
		if v := checks["mic"].Verdict; !regexp.MustCompile(`peak -\d+ dBFS`).MatchString(v) {
			t.Errorf("microphone verdict %q: want its level", v)
		}
		var summary string
		p.eval(`selftest.summary()`, &summary)
		if summary != "All good: this browser and network are ready for calls." {
			t.Fatalf("summary %q", summary)
		}
		p.screenshots("selftest")
		p.assertReadable(390) // the screenshots leave it at 390x844
		assertNamed(t, p.ax(), axNode{"textbox", "Extension"}, axNode{"textbox", "Password"}, axNode{"button", "Run the self-test"},
			axNode{"textbox", "Report for your administrator"}, axNode{"button", "Copy report"}, axNode{"link", "Back to the phone"})
		// Copy hands the whole report to the clipboard.
		p.command(map[string]any{"grant": []string{"clipboard-read", "clipboard-write"}})
		p.eval(`document.getElementById("copy").click()`, nil)
		p.waitTrue(`document.getElementById("copy").textContent === "Copied"`, 5*time.Second)
		var copied, report string
		p.eval(`navigator.clipboard.readText()`, &copied)
		p.eval(`selftest.report()`, &report)
		if copied != report || !strings.Contains(copied, "Summary: All good") {
			t.Fatalf("clipboard %q, report %q", copied, report)
		}
		waitFor(t, 10*time.Second, "the echo call's CDR", func() bool {
			return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "07010002001")
		})
	})
	t.Run("UDP blocked", func(t *testing.T) {
		t.Parallel()
		const mediaIP = "127.0.0.77" // this test's own: the rule drops nobody else's media
		s := startServer(t, "", "--media-ip", mediaIP)
		dropUDP(t, mediaIP)
		p := openPage(t, "https://"+s.addr("https")+"/selftest")
		checks := runSelfTest(t, p, testUsers["1001"], true) // keyboard only
		for id, want := range map[string]string{"wss": "ok", "mic": "ok", "speaker": "ok", "udp": "fail", "echo": "skip"} {
			if checks[id].State != want {
				t.Errorf("%s: %s %q, want %s", id, checks[id].State, checks[id].Verdict, want)
			}
		}
		m := regexp.MustCompile(`^UDP (\d+) is blocked on your network: .* allow UDP to ` + regexp.QuoteMeta(mediaIP) + ` port (\d+) `).
			FindStringSubmatch(checks["udp"].Verdict)
		if m == nil || m[1] != m[2] || m[1] == "0" {
			t.Fatalf("UDP verdict %q: want the blocked media port named", checks["udp"].Verdict)
		}
		var summary string
		p.eval(`selftest.summary()`, &summary)
		if summary != "1 problem found: Media over UDP. Not tested: Echo call (07010002001)." {
			t.Fatalf("summary %q", summary)
		}
		p.screenshots("selftest-udp-blocked")
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, "")
		p := openPage(t, "https://"+s.addr("https")+"/selftest")
		checks := runSelfTest(t, p, "not-the-password", false)
		want := map[string]selfTestCheck{
			"wss":  {"wss", "fail", "Connected, but the login failed: Wrong extension or password."},
			"udp":  {"udp", "skip", "Not tested: it needs the login to work."},
			"echo": {"echo", "skip", "Not tested: it needs the login to work."},
		}
		for id, w := range want {
			if checks[id] != w {
				t.Errorf("%s: %+v, want %+v", id, checks[id], w)
			}
		}
	})
}
