package tests

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// transferUsers adds a third extension to the test users.
var transferUsers = map[string]string{"1001": testUsers["1001"], "1002": testUsers["1002"], "1003": "pw-1003-secret"}

// startTransferServer runs a phone server with extensions 1001-1003.
func startTransferServer(t *testing.T) *server {
	t.Helper()
	data := t.TempDir()
	runCLI(t, "init", "--data", data)
	for ext, pw := range transferUsers {
		runCLI(t, "user", "add", ext, "--password", pw, "--data", data)
	}
	return startServer(t, data, "--sip", testHostIP+":0", "--media-ip", testHostIP, "--dialplan", testDialplan)
}

// ctrlConfig lets a test drive a baresip over ctrl_tcp (netstring JSON).
func ctrlConfig(t *testing.T) (string, string) {
	t.Helper()
	addr := net.JoinHostPort(testHostIP, strconv.Itoa(freePortOn(t, "udp", testHostIP)))
	return addr, fmt.Sprintf("module_app ctrl_tcp.so\nctrl_tcp_listen %s\n", addr)
}

// lastPart returns the last part of a recording: from `from` before its end
// to `to` before its end.
func lastPart(p *sounds.Prompt, from, to time.Duration) []int16 {
	n := len(p.PCM)
	a, b := n-int(from.Seconds()*float64(p.Rate)), n-int(to.Seconds()*float64(p.Rate))
	if a < 0 {
		a = 0
	}
	if b < a {
		b = a
	}
	return p.PCM[a:b]
}

// assertToneNear checks a clear tone within tol Hz of want.
func assertToneNear(t *testing.T, who string, pcm []int16, rate int, want, tol float64) {
	t.Helper()
	if len(pcm) < rate/2 {
		t.Fatalf("%s: only %d samples to measure", who, len(pcm))
	}
	level := audiotest.RMSdBFS(pcm)
	f := audiotest.DominantFrequency(pcm, rate, 100, 3000, 5)
	t.Logf("%s: %.1f s, %.1f dBFS, dominant %.0f Hz", who, float64(len(pcm))/float64(rate), level, f)
	if level < -30 || f < want-tol || f > want+tol {
		t.Fatalf("%s: %.0f Hz at %.1f dBFS, want %.0f Hz clearly above silence", who, f, level, want)
	}
}

// assertTransferCDRs checks that the call's first record ends as
// transferred and the next one, to target, names it.
func assertTransferCDRs(t *testing.T, s *server, target string) {
	t.Helper()
	var cdr string
	waitFor(t, 15*time.Second, "CDRs of the transfer", func() bool {
		cdr = runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(cdr, "transferred-from=") && strings.Contains(cdr, " transferred ")
	})
	linked := false
	for _, l := range strings.Split(cdr, "\n") {
		if i := strings.Index(l, " uid="); i >= 0 && strings.Contains(l, " transferred ") {
			uid := strings.TrimSpace(l[i+len(" uid="):])
			linked = linked || strings.Contains(grepLines(cdr, "transferred-from="+uid), target)
		}
	}
	if !linked {
		t.Fatalf("CDRs do not link the transfer to %s:\n%s", target, cdr)
	}
	t.Logf("CDRs:\n%s", cdr)
}

// loginAs opens the phone page and registers ext sending a tone.
func loginAs(t *testing.T, s *server, ext string, tone int) *page {
	t.Helper()
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(fmt.Sprintf(`phone.setTone(%d); phone.login(%q, %q)`, tone, ext, transferUsers[ext]), nil)
	p.waitTrue(`phone.registered()`, 15*time.Second)
	return p
}

// A desk phone transfers its caller to a browser (blind, baresip
// /transfer): the caller (1001, 1000 Hz) and the browser (1003, 440 Hz)
// hear each other, the transferor (1002) got NOTIFY 100 and 200 and was
// released, and the CDRs link the transferred call to the first one.
func TestBlindTransferFromDeskPhone(t *testing.T) {
	t.Parallel()
	s := startTransferServer(t)
	c := loginAs(t, s, "1003", 440)
	bCtrl, bConf := ctrlConfig(t)
	b := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 700, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 60 * time.Second, extraConfig: bConf})
	waitFor(t, 15*time.Second, "1002 registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	a, aCtrl := startCaller(t, s)
	waitFor(t, 15*time.Second, "1001 bridged to 1002", func() bool { return strings.Contains(s.logs(), `msg=bridged`) })
	time.Sleep(2 * time.Second) // the transferor hears its caller for a while

	baresipCommand(t, bCtrl, "transfer", "sip:1003@"+s.addr("udp"))
	c.waitTrue(`phone.incoming()`, 15*time.Second)
	time.Sleep(2 * time.Second) // the browser rings a while: the caller hears ringback
	c.eval(`phone.answer()`, nil)
	c.waitTrue(`phone.inCall()`, 10*time.Second)
	waitFor(t, 10*time.Second, "transfer done", func() bool { return strings.Contains(s.logs(), `msg=transferred`) })
	awaitTone(t, c, 1000)
	heardTone(t, "browser (transfer target)", c.listen(3*time.Second), 1000)
	c.eval(`phone.hangup()`, nil)
	waitFor(t, 10*time.Second, "the call ended", func() bool { return strings.Contains(s.logs(), `msg="call ended"`) })
	baresipCommand(t, aCtrl, "quit", "")
	baresipCommand(t, bCtrl, "quit", "")
	a.wait(t, 15*time.Second)
	b.wait(t, 15*time.Second)

	// The caller's one call: the transferor's 700 Hz, ringback, then the
	// browser's 440 Hz until the browser hung up.
	heardA := a.heard(t)
	assertToneNear(t, "caller after the transfer", lastPart(heardA, 2500*time.Millisecond, 300*time.Millisecond), heardA.Rate, 440, 8)
	assertHeardTone(t, "transferor", b.heard(t), 1000)
	assertRingback(t, heardA)
	logs := s.logs()
	for _, want := range []string{`msg="transfer progress notified" call_id=`, `sipfrag=100 answer=200`, `sipfrag=200 answer=200`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("server log lacks %q:\n%s", want, grepLines(logs, "transfer"))
		}
	}
	assertTransferCDRs(t, s, "user/1003")
}

// awaitTone waits (bounded) until a page hears freq: its audio starts a
// moment after the answer, later on a loaded machine.
func awaitTone(t *testing.T, p *page, freq float64) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var w audioWindow
		p.eval(`phone.analysis()`, &w)
		if w.DBFS > -35 && w.Hz > freq-20 && w.Hz < freq+20 {
			return
		}
	}
	t.Fatalf("the page never heard %.0f Hz", freq)
}

// A browser transfers its caller to a desk phone (JsSIP session.refer):
// the caller (baresip 1001, 1000 Hz) and the target (baresip 1003,
// 440 Hz) hear each other, the browser (1002) is released, and the CDRs
// link the transferred call to the first one.
func TestBlindTransferFromBrowser(t *testing.T) {
	t.Parallel()
	s := startTransferServer(t)
	b := loginAs(t, s, "1002", 700)
	cCtrl, cConf := ctrlConfig(t)
	c := startBaresip(t, s, baresipOpts{ext: "1003", password: transferUsers["1003"], tone: 440, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 60 * time.Second, extraConfig: cConf})
	waitFor(t, 15*time.Second, "1003 registered", func() bool { return strings.Contains(s.registrations("1003"), "via udp") })
	a, aCtrl := startCaller(t, s)
	b.waitTrue(`phone.incoming()`, 15*time.Second)
	b.eval(`phone.answer()`, nil)
	b.waitTrue(`phone.inCall()`, 10*time.Second)
	awaitTone(t, b, 1000) // the transferor hears its caller

	b.eval(`phone.transfer("1003")`, nil)
	waitFor(t, 20*time.Second, "transfer done", func() bool { return strings.Contains(s.logs(), `msg=transferred`) })
	b.waitTrue(`!phone.inCall()`, 10*time.Second) // released by our BYE
	time.Sleep(3 * time.Second)                   // the caller and the target talk
	baresipCommand(t, aCtrl, "quit", "")
	a.wait(t, 15*time.Second)
	waitFor(t, 10*time.Second, "the call ended", func() bool { return strings.Contains(s.logs(), `msg="call ended"`) })
	baresipCommand(t, cCtrl, "quit", "")
	c.wait(t, 15*time.Second)

	heardA := a.heard(t)
	assertToneNear(t, "caller after the transfer", lastPart(heardA, 2500*time.Millisecond, 300*time.Millisecond), heardA.Rate, 440, 8)
	heardC := c.heard(t)
	assertToneNear(t, "transfer target", lastPart(heardC, 2500*time.Millisecond, 300*time.Millisecond), heardC.Rate, 1000, 8)
	logs := s.logs()
	for _, want := range []string{`sipfrag=100 answer=200`, `sipfrag=200 answer=200`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("server log lacks %q:\n%s", want, grepLines(logs, "transfer"))
		}
	}
	assertTransferCDRs(t, s, "user/1003")
}

// assertRingback checks that a recording holds the transfer's ringback
// (425 Hz) for at least half a second.
func assertRingback(t *testing.T, p *sounds.Prompt) {
	t.Helper()
	win := p.Rate / 5 // 200 ms
	n := 0
	for i := 0; i+win <= len(p.PCM); i += win {
		w := p.PCM[i : i+win]
		if audiotest.RMSdBFS(w) > -30 && math.Abs(audiotest.DominantFrequency(w, p.Rate, 100, 3000, 5)-425) <= 8 {
			n++
		}
	}
	t.Logf("ringback heard in %d windows of 200 ms", n)
	if n < 3 {
		t.Fatal("the transferred party heard no ringback while the target rang")
	}
}

// The caller transfers (baresip /transfer on leg A): the callee (1002,
// 700 Hz) and the target (1003, 440 Hz) end up hearing each other, the
// caller is released.
func TestBlindTransferByCaller(t *testing.T) {
	t.Parallel()
	s := startTransferServer(t)
	b, bCtrl, c, cCtrl := startDeskPhones(t, s)
	a, aCtrl := startCaller(t, s)
	waitFor(t, 15*time.Second, "1001 bridged to 1002", func() bool { return strings.Contains(s.logs(), `msg=bridged`) })
	time.Sleep(2 * time.Second)
	baresipCommand(t, aCtrl, "transfer", "sip:1003@"+s.addr("udp"))
	waitFor(t, 15*time.Second, "transfer done", func() bool { return strings.Contains(s.logs(), `msg=transferred`) })
	waitFor(t, 10*time.Second, "caller released", func() bool { return strings.Contains(a.output(), "terminated") })
	time.Sleep(3 * time.Second) // the callee and the target talk
	baresipCommand(t, bCtrl, "quit", "")
	b.wait(t, 15*time.Second)
	waitFor(t, 10*time.Second, "the call ended", func() bool { return strings.Contains(s.logs(), `msg="call ended"`) })
	baresipCommand(t, cCtrl, "quit", "")
	baresipCommand(t, aCtrl, "quit", "")
	c.wait(t, 15*time.Second)
	a.wait(t, 15*time.Second)
	heardB := b.heard(t)
	assertToneNear(t, "callee after the transfer", lastPart(heardB, 2500*time.Millisecond, 300*time.Millisecond), heardB.Rate, 440, 8)
	heardC := c.heard(t)
	assertToneNear(t, "transfer target", lastPart(heardC, 2500*time.Millisecond, 300*time.Millisecond), heardC.Rate, 700, 8)
	assertTransferCDRs(t, s, "user/1003")
}

// startDeskPhones starts the auto-answering desk phones 1002 (sending
// 700 Hz) and 1003 (440 Hz), each with a ctrl_tcp address, once both
// are registered.
func startDeskPhones(t *testing.T, s *server) (b *baresip, bCtrl string, c *baresip, cCtrl string) {
	t.Helper()
	bCtrl, bConf := ctrlConfig(t)
	b = startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 700, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 60 * time.Second, extraConfig: bConf})
	cCtrl, cConf := ctrlConfig(t)
	c = startBaresip(t, s, baresipOpts{ext: "1003", password: transferUsers["1003"], tone: 440, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 60 * time.Second, extraConfig: cConf})
	for _, ext := range []string{"1002", "1003"} {
		waitFor(t, 15*time.Second, ext+" registered", func() bool { return strings.Contains(s.registrations(ext), "via udp") })
	}
	return b, bCtrl, c, cCtrl
}

// startCaller starts desk phone 1001 (sending 1000 Hz) calling 1002.
func startCaller(t *testing.T, s *server) (*baresip, string) {
	t.Helper()
	ctrl, conf := ctrlConfig(t)
	return startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", dial: "1002", runFor: 60 * time.Second, extraConfig: conf}), ctrl
}
