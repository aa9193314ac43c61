package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var webphoneDialplan, _ = filepath.Abs("testdata/webphone.lua")

// The failure sentences (web/static/words.js) and the self-test's media
// address (web/static/rtcstats.js) pass their node unit tests.
func TestWebPhoneWords(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("node", "--test", "browser/words.test.mjs", "browser/rtcstats.test.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# pass 8") {
		t.Fatalf("expected 8 passing tests:\n%s", out)
	}
}

// Each failure a caller meets is shown on the page as a sentence.
func TestWebPhoneFailureWords(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	// 1003 exists but never registers: ringing it gives 480.
	runCLI(t, "user", "add", "1003", "--password", "pw-1003-secret", "--data", s.data)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440)`, nil)
	for _, tc := range []struct{ dial, want string }{
		{"1999", "1999 does not exist."},
		{"1002", "1002 is busy."},
		{"91003", "91003 is not available right now."},
		{"1004", "The server is overloaded, try again in a moment."},
	} {
		p.eval(fmt.Sprintf(`phone.call(%q)`, tc.dial), nil)
		p.waitTrue(fmt.Sprintf(`phone.status() === %q`, tc.want), 15*time.Second)
	}
	p.screenshots("failure")
	var recent []struct{ Number, Direction, Outcome string }
	p.eval(`phone.recent()`, &recent)
	if len(recent) != 4 || recent[0].Number != "1004" || recent[0].Outcome != "failed" || recent[3].Number != "1999" {
		t.Fatalf("recent calls: %+v", recent)
	}
}

// countTone counts the windows that carry freq at a hearable level.
func countTone(wins []audioWindow, freq float64) int {
	n := 0
	for _, w := range wins {
		if w.DBFS > -40 && w.Hz > freq-20 && w.Hz < freq+20 {
			n++
		}
	}
	return n
}

// A browser dials with Enter and hears ringback (425 Hz) while the callee
// browser shows the incoming call and plays its ringtone (800 Hz); once
// answered: the timer runs, digits are shown, the mic meter follows mute.
func TestWebPhoneRinging(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	a := loginPage(t, s, "1001")
	b := loginPage(t, s, "1002")
	a.eval(`phone.setTone(440)`, nil)
	b.eval(`phone.setTone(1000)`, nil)
	a.screenshots("idle")
	still := []string{"status", "error", "number", "pad", "tone", "mic", "level"} // the call's buttons change
	calleeBefore := b.layout(still...)
	a.eval(`phone.pressEnter("91002")`, nil)
	b.waitTrue(`phone.incoming() && phone.ringing() && phone.ringtone()`, 15*time.Second)
	if after := b.layout(still...); after != calleeBefore {
		t.Errorf("the callee's page moved when the call came in:\nbefore %s\nafter  %s", calleeBefore, after)
	}
	b.screenshots("incoming")
	a.waitTrue(`phone.status().startsWith("Ringing")`, 10*time.Second)
	// The cadences are 1 s on, 4 s off (ringback) and 1 s on, 2 s off
	// (ringtone): each listen spans a whole cycle and more.
	callerWins := a.listen(7 * time.Second)
	calleeWins := b.listen(4 * time.Second)
	t.Logf("caller heard %v\ncallee heard %v", callerWins, calleeWins)
	if n := countTone(callerWins, 425); n < 2 {
		t.Fatalf("caller heard no 425 Hz ringback (%d windows)", n)
	}
	if n := countTone(calleeWins, 800); n < 2 {
		t.Fatalf("callee heard no 800 Hz ringtone (%d windows)", n)
	}
	b.eval(`phone.answer()`, nil)
	a.waitTrue(`phone.inCall()`, 10*time.Second)
	b.waitTrue(`phone.inCall() && !phone.ringing() && !phone.ringtone()`, 10*time.Second)
	time.Sleep(time.Second)
	heardTone(t, "caller", a.listen(2*time.Second), 1000) // the far end, no ringback left
	a.waitTrue(`/^0:0[1-9]$/.test(phone.timer())`, 10*time.Second)
	a.eval(`phone.dtmf("5", "info"); phone.dtmf("#", "info")`, nil)
	a.waitTrue(`phone.digits() === "5#"`, 5*time.Second)
	a.screenshots("in-call")

	// The mic meter reads what we send: the tone, then nothing while muted.
	a.waitTrue(`phone.levels().mic > 0.3`, 5*time.Second)
	a.eval(`phone.mute(true)`, nil)
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 5; i++ {
		var lv struct{ Mic, Far float64 }
		a.eval(`phone.levels()`, &lv)
		if lv.Mic > 0.01 || lv.Far < 0.3 {
			t.Fatalf("muted: mic meter %.3f (want 0), far-end meter %.3f (want the 1000 Hz tone)", lv.Mic, lv.Far)
		}
		time.Sleep(200 * time.Millisecond)
	}
	a.eval(`phone.mute(false)`, nil)
	a.waitTrue(`phone.levels().mic > 0.3`, 5*time.Second)

	b.eval(`phone.hangup()`, nil)
	a.waitTrue(`phone.status() === "91002 hung up."`, 10*time.Second)
	var recent []struct{ Number, Direction, Outcome string }
	b.eval(`phone.recent()`, &recent)
	if len(recent) != 1 || recent[0].Number != "1001" || recent[0].Direction != "in" || !strings.HasPrefix(recent[0].Outcome, "0:0") {
		t.Fatalf("callee's recent calls: %+v", recent)
	}
}

// The server dies mid-call: the page says so within 5 s (not blaming the
// certificate), reconnects by itself when the server is back, and clears
// the error.
func TestWebPhoneServerLost(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	_ = s.stop(syscall.SIGKILL)
	killed := time.Now()
	p.waitTrue(`phone.status() === "Call lost: you were disconnected from the server."`, 5*time.Second)
	t.Logf("loss shown after %v", time.Since(killed))
	var msg string
	p.eval(`phone.error()`, &msg)
	if !strings.Contains(msg, "disconnected from the server") || strings.Contains(msg, "certificate") {
		t.Fatalf("error after the server died: %q", msg)
	}
	p.screenshots("server-lost")
	// The same data and HTTPS port again (Go listeners reuse the address at once).
	startServer(t, s.data, "--dialplan", webphoneDialplan, "--https", s.addr("https"))
	p.waitTrue(`phone.registered() && phone.error() === ""`, 30*time.Second)
	p.screenshots("reconnected")
}

// The server stops answering while its socket stays open (SIGSTOP): the
// keep-alive notices within 5 s (6 s allowed for a loaded machine); once it answers again the page
// re-registers and the error clears.
func TestWebPhoneServerHangs(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	resumed := false
	defer func() {
		if !resumed {
			_ = s.cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	p.waitTrue(`phone.status() === "Call lost: you were disconnected from the server."`, 6*time.Second)
	t.Logf("loss shown after %v (keep-alive: worst case 4.5 s)", time.Since(stopped))
	var msg string
	p.eval(`phone.error()`, &msg)
	if !strings.Contains(msg, "disconnected from the server") {
		t.Fatalf("error while the server hangs: %q", msg)
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	resumed = true
	p.waitTrue(`phone.registered() && phone.error() === ""`, 30*time.Second)
}

// screenshotDir collects the web phone's screenshots for a person to look
// at (not committed: .gitignore).
const screenshotDir = "screenshots"

// screenshots saves the page at a desktop (1280×800) and a phone (390×844) size.
func (p *page) screenshots(name string) {
	p.t.Helper()
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	for _, size := range [][2]int{{1280, 800}, {390, 844}} {
		file, _ := filepath.Abs(filepath.Join(screenshotDir, fmt.Sprintf("%s-%dx%d.png", name, size[0], size[1])))
		p.command(map[string]any{"shot": file, "width": size[0], "height": size[1]})
	}
}

// The in-call buttons: Hold toggles to Resume and back (re-INVITEs the
// server answers), Transfer asks for a number first, and the call id for
// support is on the page.
func TestWebPhoneCallButtons(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); document.getElementById("testcall").click()`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	p.eval(`document.getElementById("hold").click()`, nil)
	p.waitTrue(`phone.held() && document.getElementById("hold").textContent === "Resume" && !document.getElementById("hold").disabled`, 10*time.Second)
	p.eval(`document.getElementById("hold").click()`, nil)
	p.waitTrue(`!phone.held() && document.getElementById("hold").textContent === "Hold" && !document.getElementById("hold").disabled`, 10*time.Second)
	p.eval(`document.getElementById("number").value = ""; document.getElementById("xfer").click()`, nil)
	p.waitTrue(`phone.error() === "Type the number to transfer to, then press Transfer."`, 5*time.Second)
	var shown, id string
	p.eval(`document.getElementById("callidtext").textContent`, &shown)
	p.eval(`phone.lastCallID()`, &id)
	if id == "" || !strings.HasSuffix(shown, id) || !strings.Contains(s.logs(), "call_id="+id) {
		t.Fatalf("call id on the page %q, phone.lastCallID %q; the server log must name it", shown, id)
	}
	p.eval(`phone.hangup()`, nil)
	p.waitTrue(`phone.status() === "Call ended."`, 10*time.Second)
}

// The call's media stops while signalling still works (UDP to and from the
// media address dropped): the page marks the call lost within 5 s, in
// words, and hangs up (the server gets a BYE). Hold first, which stops the
// far end's audio legitimately, is not mistaken for a loss.
func TestWebPhoneMediaStops(t *testing.T) {
	t.Parallel()
	const mediaIP = "127.0.0.78" // this test's own: the rule drops nobody else's media
	s := startServer(t, "", "--media-ip", mediaIP)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("07010002001")`, nil) // the echo number
	p.waitTrue(`phone.inCall()`, 15*time.Second)
	p.waitTrue(`phone.stats().then((s) => s.packetsReceived > 50)`, 10*time.Second)

	p.eval(`phone.hold()`, nil)
	p.waitTrue(`phone.held()`, 10*time.Second)
	time.Sleep(4 * time.Second)
	p.eval(`phone.unhold()`, nil)
	p.waitTrue(`!phone.held()`, 10*time.Second)
	var st string
	p.eval(`phone.status()`, &st)
	if !strings.HasPrefix(st, "In call with 07010002001") {
		t.Fatalf("after 4 s on hold the call should go on; status %q", st)
	}
	p.waitTrue(`phone.stats().then((s) => s.packetsReceived > 0)`, 5*time.Second)

	dropUDP(t, mediaIP)
	dropped := time.Now()
	p.waitTrue(`phone.status() === "Call lost: the audio stopped."`, 5*time.Second)
	t.Logf("media loss shown after %v", time.Since(dropped))
	p.waitTrue(`!phone.inCall() && phone.registered()`, 5*time.Second)
	waitFor(t, 10*time.Second, "BYE from the page in the CDR", func() bool {
		out := runCLI(t, "cdr", "list", "--data", s.data, "--last", "1")
		return strings.Contains(out, "07010002001") && strings.Contains(out, " normal ")
	})
	var recent []struct{ Number, Outcome string }
	p.eval(`phone.recent()`, &recent)
	if len(recent) == 0 || recent[0].Number != "07010002001" || recent[0].Outcome != "lost" {
		t.Fatalf("recent calls: %+v", recent)
	}
}
