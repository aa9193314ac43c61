package tests

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dialplanPath is the shipped dialplan, used by every test server.
var dialplanPath, _ = filepath.Abs("../scripts/dialplan.lua")

// An authenticated sipp extension dials 07010002000: the call is answered,
// the test audio arrives (speech, then a 1000 Hz tone, measured from the
// RTP stream), the softswitch hangs up at the end, and a CDR is written.
func TestTestNumberPlaysTestAudio(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	peer := newRTPPeer(t)
	sippRun{scenario: "call_auth.xml", transport: "udp", users: [][2]string{{"1001", testUsers["1001"]}},
		keys: map[string]string{"rtpport": strconv.Itoa(peer.port())}, service: "07010002000"}.mustPass(t, s.addr("udp"))
	pcm, packets := peer.received()
	seconds := float64(len(pcm)) / 8000
	if seconds < 5 {
		t.Fatalf("received %.1f s of audio in %d packets, want the whole test audio", seconds, packets)
	}
	wins := analyse(pcm)
	t.Logf("received %.1f s in %d packets; per 500 ms window (dBFS, dominant Hz): %v", seconds, packets, summary(wins))
	loud, tone := 0, 0
	for _, w := range wins {
		if w.dBFS > -40 {
			loud++
		}
		if w.tone1k {
			tone++
		}
	}
	if loud < len(wins)/2 {
		t.Fatalf("only %d of %d windows carry sound: %+v", loud, len(wins), wins)
	}
	if tone < 4 { // the file ends with 4 s of 1000 Hz
		t.Fatalf("the 1000 Hz segment was not heard: %d windows of tone: %+v", tone, wins)
	}
	// Speech first, the tone at the end.
	if wins[0].tone1k || !(wins[len(wins)-2].tone1k || wins[len(wins)-3].tone1k) {
		t.Fatalf("want speech first and the tone last: %+v", wins)
	}
	waitFor(t, 5*time.Second, "CDR", func() bool {
		out := runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(out, "07010002000") && strings.Contains(out, " 1001 ")
	})
	out := runCLI(t, "cdr", "list", "--data", s.data)
	if !strings.Contains(out, "normal") || !strings.Contains(out, "PCMU") {
		t.Fatalf("CDR lacks cause or codec:\n%s", out)
	}
}

// Calls on PCMU (sipp) and on Opus (a browser) hear the test audio at the
// same time: the server decodes it once and makes its 8 kHz version once
// (its log says each time it does), and the browser hears the tone.
func TestTestCallPromptShared(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	p := loginPage(t, s, "1001")
	peer := newRTPPeer(t)
	type result struct {
		code int
		out  string
	}
	sipp := make(chan result, 1)
	go func() {
		code, out := sippRun{scenario: "call_auth.xml", transport: "udp", users: [][2]string{{"1002", testUsers["1002"]}},
			calls: 6, rate: 10, keys: map[string]string{"rtpport": strconv.Itoa(peer.port())}, service: "07010002000"}.run(t, s.addr("udp"))
		sipp <- result{code, out}
	}()
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	wins := p.listen(9 * time.Second)
	res := <-sipp
	if res.code != 0 {
		t.Fatalf("sipp exited %d:\n%s", res.code, res.out)
	}
	heardTestAudio(t, wins)
	if _, packets := peer.received(); packets < 6*200 {
		t.Fatalf("the sipp calls got %d packets, want the test audio for each", packets)
	}
	logs := s.logs()
	decoded := strings.Count(logs, `msg="prompt decoded" prompt=embedded:test-audio`)
	converted := strings.Count(logs, `msg="prompt converted" prompt=embedded:test-audio rate=8000`)
	if decoded != 1 || converted != 1 {
		t.Fatalf("test audio decoded %d times and converted to 8 kHz %d times for 7 calls, want 1 and 1:\n%s",
			decoded, converted, grepLines(logs, "prompt "))
	}
}
