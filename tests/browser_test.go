package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// page is a headless Chromium tab (tests/browser/page.mjs, playwright-core
// driving Debian's chromium) that evaluates JavaScript for the test.
type page struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	nextID int
	mu     sync.Mutex
	logs   strings.Builder
}

// openPage starts Chromium on url and waits until the page has loaded.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("chromium not found: run `make deps` (Debian package chromium)")
	}
	driver, _ := filepath.Abs("browser/page.mjs")
	if _, err := os.Stat(filepath.Join(filepath.Dir(driver), "node_modules", "playwright-core")); err != nil {
		t.Fatal("playwright-core not installed: run `make deps` (npm ci in tests/browser)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	p := &page{t: t, lines: make(chan string, 16)}
	p.cmd = exec.CommandContext(ctx, "node", driver, url)
	p.cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.logs}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		p.in.Close()
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.kill()
			<-done
		}
		cancel()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("browser console:\n%s", p.logs.String())
			p.mu.Unlock()
		}
	})
	p.reply(0, 60*time.Second) // "ready": the page loaded
	return p
}

type pageReply struct {
	ID    int             `json:"id"`
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error string          `json:"error"`
}

func (p *page) reply(id int, d time.Duration) json.RawMessage {
	p.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.mu.Lock()
				defer p.mu.Unlock()
				p.t.Fatalf("browser driver exited:\n%s", p.logs.String())
			}
			var r pageReply
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				p.t.Fatalf("bad driver output %q: %v", line, err)
			}
			if r.ID != id {
				continue
			}
			if !r.OK {
				p.t.Fatalf("page: %s", r.Error)
			}
			return r.Value
		case <-deadline:
			p.t.Fatalf("page did not answer within %v", d)
		}
	}
}

// command sends one command to the driver (tests/browser/page.mjs) and
// returns its value.
func (p *page) command(cmd map[string]any) json.RawMessage {
	p.t.Helper()
	p.nextID++
	cmd["id"] = p.nextID
	b, _ := json.Marshal(cmd)
	if _, err := fmt.Fprintf(p.in, "%s\n", b); err != nil {
		p.t.Fatal(err)
	}
	return p.reply(p.nextID, 30*time.Second)
}

// eval evaluates js in the page (promises are awaited) and decodes the result into v.
func (p *page) eval(js string, v any) {
	p.t.Helper()
	raw := p.command(map[string]any{"js": js})
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			p.t.Fatalf("decoding %s: %v", raw, err)
		}
	}
}

// waitTrue polls a boolean expression.
func (p *page) waitTrue(js string, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		p.eval(js, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var st, er string
			p.eval(`typeof phone === "object" ? phone.status() : document.title`, &st)
			p.eval(`typeof phone === "object" ? phone.error() : ""`, &er)
			p.t.Fatalf("waited %v for %s; status %q, error %q", d, js, st, er)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A browser registers over WSS from the page the softswitch serves; a
// wrong password is shown in words.
func TestBrowserRegistersOverWSS(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(`phone.login("1001", "not-the-password")`, nil)
	p.waitTrue(`phone.error().includes("Wrong extension or password")`, 10*time.Second)
	p.eval(fmt.Sprintf(`phone.login("1001", %q)`, testUsers["1001"]), nil)
	p.waitTrue(`phone.registered()`, 10*time.Second)
	if reg := s.registrations("1001"); !strings.Contains(reg, "via wss") {
		t.Fatalf("browser registration not listed: %s", reg)
	}
}

// audioWindow is what the page measured of the audio it received.
type audioWindow struct {
	Hz   float64 `json:"hz"`
	DBFS float64 `json:"dBFS"`
}

// listen samples the page's received audio every 250 ms for d.
func (p *page) listen(d time.Duration) []audioWindow {
	p.t.Helper()
	var out []audioWindow
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		var w audioWindow
		p.eval(`phone.analysis()`, &w)
		out = append(out, w)
	}
	return out
}

type callStats struct {
	Codec           string   `json:"codec"`
	PacketsReceived int      `json:"packetsReceived"`
	PacketsLost     int      `json:"packetsLost"`
	RTT             *float64 `json:"rtt"`
	DTLS            string   `json:"dtls"`
}

// loginPage opens the phone page and registers ext.
func loginPage(t *testing.T, s *server, ext string) *page {
	t.Helper()
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(fmt.Sprintf(`phone.login(%q, %q)`, ext, testUsers[ext]), nil)
	p.waitTrue(`phone.registered()`, 10*time.Second)
	return p
}

// A browser dials 07010002000: answered, the test audio plays into the page
// (speech, then the 1000 Hz tone), over Opus with DTLS connected.
func TestBrowserTestCall(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	wins := p.listen(9 * time.Second)
	var st callStats
	p.eval(`phone.stats()`, &st)
	t.Logf("stats %+v; windows %v", st, wins)
	if st.Codec != "audio/opus" || st.DTLS != "connected" || st.PacketsReceived < 200 {
		t.Fatalf("want opus over connected DTLS with packets flowing, got %+v", st)
	}
	heardTestAudio(t, wins)
}

// heardTestAudio checks that a page heard the test audio's closing 1000 Hz
// tone (4 s of it) in the windows it measured.
func heardTestAudio(t *testing.T, wins []audioWindow) {
	t.Helper()
	tone := 0
	for _, w := range wins {
		if w.DBFS > -35 && w.Hz > 985 && w.Hz < 1015 {
			tone++
		}
	}
	if tone < 4 {
		t.Fatalf("the 1000 Hz segment was not heard in the page: %v", wins)
	}
}

// heardTone checks that most windows of what a page heard carry freq.
func heardTone(t *testing.T, who string, wins []audioWindow, freq float64) {
	t.Helper()
	n := 0
	for _, w := range wins {
		if w.DBFS > -35 && w.Hz > freq-20 && w.Hz < freq+20 {
			n++
		}
	}
	t.Logf("%s heard %d of %d windows at %.0f Hz: %v", who, n, len(wins), freq, wins)
	if n < len(wins)/2 {
		t.Fatalf("%s did not hear %.0f Hz", who, freq)
	}
}

// A browser (Opus, sending 440 Hz) and a baresip desk phone (PCMU, sending
// 1000 Hz) call each other in both directions: audio is measured on both
// sides, proving Opus <-> PCMU transcoding end to end.
func TestBrowserAndDeskPhone(t *testing.T) {
	t.Parallel()
	for _, browserCalls := range []bool{true, false} {
		name := "phone calls browser"
		if browserCalls {
			name = "browser calls phone"
		}
		t.Run(name, func(t *testing.T) {
			s := startPhoneServer(t)
			p := openPage(t, "https://"+s.addr("https")+"/")
			p.eval(fmt.Sprintf(`phone.setTone(440); phone.login("1001", %q)`, testUsers["1001"]), nil)
			p.waitTrue(`phone.registered()`, 10*time.Second)
			var desk *baresip
			if browserCalls {
				desk = startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 30 * time.Second,
					codecs: "PCMU/8000/1", autoAnswer: true, runFor: 10 * time.Second})
				waitFor(t, 10*time.Second, "phone registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
				p.eval(`phone.call("1002")`, nil)
			} else {
				desk = startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 30 * time.Second,
					codecs: "PCMU/8000/1", dial: "1001", runFor: 10 * time.Second})
				p.waitTrue(`phone.incoming()`, 10*time.Second)
				p.eval(`phone.answer()`, nil)
			}
			p.waitTrue(`phone.inCall()`, 10*time.Second)
			time.Sleep(time.Second)
			heardTone(t, "browser", p.listen(4*time.Second), 1000)
			var st callStats
			p.eval(`phone.stats()`, &st)
			if st.Codec != "audio/opus" {
				t.Fatalf("browser leg codec %q, want opus", st.Codec)
			}
			p.eval(`phone.hangup()`, nil)
			desk.wait(t, 30*time.Second)
			assertHeardTone(t, "desk phone", desk.heard(t), 440)
			waitFor(t, 10*time.Second, "CDR", func() bool {
				return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "opus/PCMU") ||
					strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "PCMU/opus")
			})
			// Opus runs at 8 kHz facing PCMU: decoded and re-encoded, no resampler.
			waitFor(t, 5*time.Second, "media path logged", func() bool { return strings.Contains(s.logs(), `msg="bridge ended"`) })
			for _, want := range []string{"Opus(decode,8k)", "Opus(encode,8k)", "PCMU(decode)", "PCMU(encode)"} {
				if !strings.Contains(s.logs(), want) {
					t.Fatalf("media path lacks %s:\n%s", want, grepLines(s.logs(), "bridge ended"))
				}
			}
			if strings.Contains(grepLines(s.logs(), "bridge ended"), "resample") {
				t.Fatalf("a resampler sits on the Opus<->PCMU path:\n%s", grepLines(s.logs(), "bridge ended"))
			}
		})
	}
}

// browserCall opens two web phones on s, 1001 sending 440 Hz and 1002
// sending 1000 Hz, and has 1001 call 1002, who answers; it returns once
// both are in the call.
func browserCall(t *testing.T, s *server) (a, b *page) {
	t.Helper()
	a = openPage(t, "https://"+s.addr("https")+"/")
	b = openPage(t, "https://"+s.addr("https")+"/")
	a.eval(fmt.Sprintf(`phone.setTone(440); phone.login("1001", %q)`, testUsers["1001"]), nil)
	b.eval(fmt.Sprintf(`phone.setTone(1000); phone.login("1002", %q)`, testUsers["1002"]), nil)
	a.waitTrue(`phone.registered()`, 10*time.Second)
	b.waitTrue(`phone.registered()`, 10*time.Second)
	a.eval(`phone.call("1002")`, nil)
	b.waitTrue(`phone.incoming()`, 10*time.Second)
	b.eval(`phone.answer()`, nil)
	a.waitTrue(`phone.inCall()`, 10*time.Second)
	b.waitTrue(`phone.inCall()`, 10*time.Second)
	return a, b
}

// Two browsers call each other: Opus on both legs, audio both ways.
func TestBrowserToBrowser(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	a, b := browserCall(t, s)
	time.Sleep(time.Second)
	heardTone(t, "caller", a.listen(3*time.Second), 1000)
	heardTone(t, "callee", b.listen(3*time.Second), 440)
	b.eval(`phone.hangup()`, nil)
	a.waitTrue(`!phone.inCall()`, 10*time.Second)
	// Opus on both legs: payloads pass through, nothing is decoded.
	waitFor(t, 5*time.Second, "media path logged", func() bool { return strings.Contains(s.logs(), `msg="bridge ended"`) })
	if path := grepLines(s.logs(), "bridge ended"); strings.Count(path, "passthrough") < 2 || strings.Contains(path, "decode") {
		t.Fatalf("browser-to-browser media was transcoded:\n%s", path)
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A browser sends digits (SIP INFO, as JsSIP does by default, and RFC 4733
// from the WebRTC DTMF sender) that the dialplan collects.
func TestBrowserDTMF(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	for _, how := range []string{"info", "rfc4733"} {
		t.Run(how, func(t *testing.T) {
			p := loginPage(t, s, "1001")
			p.eval(`phone.setTone(440); phone.call("08")`, nil)
			p.waitTrue(`phone.inCall()`, 10*time.Second)
			time.Sleep(500 * time.Millisecond)
			for _, d := range "123" {
				p.eval(fmt.Sprintf(`phone.dtmf(%q, %q)`, string(d), how), nil)
				time.Sleep(400 * time.Millisecond)
			}
			p.waitTrue(`!phone.inCall()`, 10*time.Second) // the dialplan hangs up after three digits
			waitFor(t, 5*time.Second, "CDR", func() bool {
				out := runCLI(t, "cdr", "list", "--data", s.data, "--last", "1")
				return strings.Contains(out, " 08 ")
			})
			if out := runCLI(t, "cdr", "list", "--data", s.data, "--last", "1"); !strings.Contains(out, " normal ") {
				t.Fatalf("the dialplan did not collect 123 from the browser:\n%s", out)
			}
		})
	}
}

// kill ends the browser at once: its WebSocket drops without a goodbye.
// The driver runs in its own process group, with Chromium under it.
func (p *page) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// killBrowser kills Chromium itself with SIGKILL, as a crash would (it
// then sends no WebSocket close frame), then the driver. Playwright starts
// Chromium in a process group of its own, so kill (the driver's group)
// lets Chromium shut down cleanly instead.
func (p *page) killBrowser() {
	p.t.Helper()
	found := false
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p.cmd.Process.Pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(field)
			if err != nil {
				continue
			}
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.HasPrefix(string(comm), "chromium") {
				_ = syscall.Kill(-pid, syscall.SIGKILL) // its group: renderers and the network service too
				_ = syscall.Kill(pid, syscall.SIGKILL)
				found = true
			}
		}
	}
	if !found {
		p.t.Fatal("no Chromium process under the page's driver")
	}
	p.kill()
}

// The browser's WebSocket dies mid-call: the other side gets BYE, the
// CDR records it, and the extension gets 480 afterwards.
func TestBrowserWebSocketDrops(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	p := loginPage(t, s, "1002")
	p.eval(`phone.setTone(440)`, nil)
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "91002", rtp.port()) // rings 15 s: a loaded machine is slow to answer
	p.waitTrue(`phone.incoming()`, 10*time.Second)
	p.eval(`phone.answer()`, nil)
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d", res.StatusCode)
	}
	cl.ack(res)
	rtp.waitPackets(t, 100, 10*time.Second)
	pcm, _ := rtp.received()
	assertHeardToneRaw(t, pcm[len(pcm)/2:], 440) // transcoded from the browser's Opus
	p.kill()
	bye := c.recvRequest(10 * time.Second)
	if bye == nil || bye.Method != "BYE" {
		t.Fatalf("caller not told the browser is gone: %v", bye)
	}
	c.respond(bye, 200, "OK", "")
	waitFor(t, 5*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "connection-lost")
	})
	_, again := dialSIP(t, s, "udp").invite("1001", testUsers["1001"], "1002", rtp.port())
	if again.StatusCode != 480 {
		t.Fatalf("call to the browser's extension after the drop got %d, want 480", again.StatusCode)
	}
}

// addScript loads a JavaScript file into the page.
func (p *page) addScript(path string) {
	p.t.Helper()
	p.command(map[string]any{"script": path})
}

// follow clicks the link selector names and waits until its page has loaded.
func (p *page) follow(selector string) {
	p.t.Helper()
	p.command(map[string]any{"follow": selector})
}

// keys presses keys as a keyboard would ("Tab", "Enter"; "text:1001" types).
func (p *page) keys(keys ...string) {
	p.t.Helper()
	p.command(map[string]any{"keys": keys})
}

// viewport resizes the page.
func (p *page) viewport(width, height int) {
	p.t.Helper()
	p.command(map[string]any{"viewport": []int{width, height}})
}

// heardIn measures what the media element id of page p plays over 1.5 s:
// dominant frequency and level.
func heardIn(p *page, id string) audioWindow {
	p.t.Helper()
	var heard audioWindow
	p.eval(fmt.Sprintf(`(async () => {
		const ctx = new AudioContext();
		await ctx.resume();
		const an = ctx.createAnalyser();
		an.fftSize = 8192;
		ctx.createMediaStreamSource(document.getElementById(%q).srcObject).connect(an);
		await new Promise((r) => setTimeout(r, 1500));
		const f = new Float32Array(an.frequencyBinCount);
		an.getFloatFrequencyData(f);
		let best = 1;
		for (let i = 2; i < f.length; i++) if (f[i] > f[best]) best = i;
		const tdata = new Float32Array(an.fftSize);
		an.getFloatTimeDomainData(tdata);
		let sum = 0;
		for (const v of tdata) sum += v * v;
		return { hz: best * ctx.sampleRate / an.fftSize, dBFS: 20 * Math.log10(Math.sqrt(sum / tdata.length) || 1e-9) };
	})()`, id), &heard)
	return heard
}

// bundleSIPjs bundles npm sip.js (pinned in tests/browser) for the page.
func bundleSIPjs(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "sipjs.js")
	cmd := exec.Command("node_modules/.bin/esbuild", "sipjs-entry.mjs", "--bundle", "--format=iife", "--platform=browser", "--outfile="+out)
	cmd.Dir = "browser"
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bundling sip.js: %v\n%s", err, b)
	}
	return out
}

// registerSIPjs registers ext from page p (with the SIP.js bundle loaded)
// as a SIP.js SimpleUser (window.su) that answers every call it gets
// (window.sipjsCalls counts them), playing what it hears in #remote.
func registerSIPjs(t *testing.T, s *server, p *page, ext string) {
	t.Helper()
	registerSimpleUser(t, s, p, ext, `const audio = document.getElementById("remote");`,
		`{ remote: { audio }, constraints: { audio: true, video: false } }`)
}

// registerSimpleUser registers ext from page p as a SIP.js SimpleUser
// (window.su) answering every call (counted in window.sipjsCalls), with
// the SimpleUser media options media, after running setup in the page.
func registerSimpleUser(t *testing.T, s *server, p *page, ext, setup, media string) {
	t.Helper()
	p.eval(fmt.Sprintf(`(async () => {
		%[3]s
		const su = new SIP.Web.SimpleUser("wss://" + location.host + "/ws", {
			aor: "sip:%[1]s@" + location.hostname,
			media: %[4]s,
			userAgentOptions: { authorizationUsername: %[1]q, authorizationPassword: %[2]q },
		});
		window.sipjsCalls = 0;
		su.delegate = { onCallReceived: async () => { window.sipjsCalls++; await su.answer(); } };
		await su.connect();
		await su.register();
		window.su = su;
		return true;
	})()`, ext, testUsers[ext], setup, media), nil)
	waitFor(t, 10*time.Second, "SIP.js registered", func() bool { return strings.Contains(s.registrations(ext), "via wss") })
}

// A SIP.js client (SimpleUser, on the same origin) registers over WSS and
// takes a call from a JsSIP browser; audio is measured on both sides.
func TestSIPjsClient(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	bundle := bundleSIPjs(t)
	b := openPage(t, "https://"+s.addr("https")+"/")
	b.addScript(bundle)
	registerSIPjs(t, s, b, "1002")

	a := loginPage(t, s, "1001")
	a.eval(`phone.setTone(440); phone.call("1002")`, nil)
	a.waitTrue(`phone.inCall()`, 15*time.Second)
	time.Sleep(time.Second)
	// What SIP.js hears, measured from its audio element's stream.
	heard := heardIn(b, "remote")
	t.Logf("SIP.js heard %+v", heard)
	if heard.DBFS < -35 || heard.Hz < 420 || heard.Hz > 460 {
		t.Fatalf("SIP.js did not hear the caller's 440 Hz: %+v", heard)
	}
	var st callStats
	a.eval(`phone.stats()`, &st)
	if st.PacketsReceived < 50 {
		t.Fatalf("no audio from SIP.js back to the caller: %+v", st)
	}
	a.eval(`phone.hangup()`, nil)
	waitFor(t, 10*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "user/1002")
	})
}
