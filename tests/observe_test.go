package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runCLIFail runs a softswitch command that must fail with exit status 1
// and returns its stderr.
func runCLIFail(t *testing.T, args ...string) string {
	t.Helper()
	return runCLIExit(t, 1, args...)
}

// runCLIUsage runs a softswitch command that must be refused as a usage
// error (exit status 2) and returns its stderr.
func runCLIUsage(t *testing.T, args ...string) string {
	t.Helper()
	return runCLIExit(t, 2, args...)
}

func runCLIExit(t *testing.T, status int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != status {
		t.Fatalf("softswitch %v: want exit status %d, got %v\n%s", args, status, err, stderr.String())
	}
	return stderr.String()
}

// liveOutput is a command whose stdout is read as it comes.
type liveOutput struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out strings.Builder
}

func startLive(t *testing.T, name string, args ...string) *liveOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	l := &liveOutput{cmd: exec.CommandContext(ctx, name, args...)}
	l.cmd.Stderr = &lockedWriter{mu: &l.mu, w: &l.out}
	stdout, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.out.WriteString(sc.Text() + "\n")
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = l.cmd.Process.Kill()
			<-done
		}
		_ = l.cmd.Wait()
		cancel()
	})
	return l
}

func (l *liveOutput) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.String()
}

// stop ends the command with SIGTERM and waits (bounded) for it.
func (l *liveOutput) stop(t *testing.T) {
	t.Helper()
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan struct{})
	go func() { _ = l.cmd.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		_ = l.cmd.Process.Kill()
		t.Fatalf("%v did not stop within 10s of SIGTERM", l.cmd.Args)
	}
}

// A browser registers and calls over WSS: `softswitch trace --ext 1001`
// shows its REGISTER in clear, the debug log has every message with its
// call_id, and sngrep, a real HEP v3 receiver, records the WSS INVITE and
// REGISTER where tshark finds them.
func TestTraceAndHEPOfBrowser(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sngrep", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make deps` (Debian package %s)", tool, tool)
		}
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "hep.pcap")
	hepPort := freePortOn(t, "udp", "127.0.0.1")
	sngrep := startLive(t, "sngrep", "-L", fmt.Sprintf("udp:127.0.0.1:%d", hepPort), "-N", "-q", "-O", pcap)
	cfg := writeConfig(t, fmt.Sprintf("sip_trace: true\nhep:\n  address: 127.0.0.1:%d\n  id: 2001\n  password: hep-secret\n", hepPort))
	s := startServer(t, "", "--config", cfg)
	trace := startLive(t, binary, "trace", "--ext", "1001", "--data", s.data)
	if out := runCLI(t, "sip-trace", "--data", s.data); !strings.Contains(out, "sip trace on") {
		t.Fatalf("sip_trace: true in the config, but: %q", out)
	}
	waitFor(t, 10*time.Second, "the trace stream to open", func() bool {
		return strings.Contains(s.logs(), `msg="sip trace stream opened" ext=1001`)
	})

	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 15*time.Second)
	p.eval(`phone.hangup()`, nil)

	waitFor(t, 20*time.Second, "the browser's REGISTER in the trace", func() bool {
		return strings.Contains(trace.text(), "\nREGISTER sip:")
	})
	out := trace.text()
	var recvWSS bool
	for _, block := range strings.Split(out, "\n\n") {
		if strings.Contains(block, " recv WSS ") && strings.Contains(block, "\nREGISTER sip:") && strings.Contains(block, "call_id=") {
			recvWSS = true
		}
	}
	if !recvWSS {
		t.Fatalf("no REGISTER received over WSS in the trace:\n%s", tail(out, 40))
	}
	logs := s.logs()
	if !strings.Contains(logs, `msg="sip received" call_id=`) || !strings.Contains(logs, "transport=wss") ||
		!strings.Contains(logs, `first_line="INVITE sip:07010002000@`) {
		t.Fatalf("sip_trace did not log the WSS messages with their call_id:\n%s", grepLines(logs, "msg=\"sip "))
	}

	// sngrep writes each packet as it arrives; give the last ones time.
	waitFor(t, 20*time.Second, "sngrep to record the INVITE", func() bool {
		return strings.Contains(tsharkSIP(t, pcap), "INVITE\t")
	})
	sngrep.stop(t)
	got := tsharkSIP(t, pcap)
	for _, want := range []string{"REGISTER\t", "INVITE\t", "\t200\t"} {
		if !strings.Contains(got, want) {
			t.Errorf("tshark found no %q in sngrep's capture:\n%s", want, got)
		}
	}
}

// tsharkSIP lists the SIP messages of a capture: method, status, Call-ID.
func tsharkSIP(t *testing.T, pcap string) string {
	t.Helper()
	if _, err := os.Stat(pcap); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tshark", "-r", pcap, "-Y", "sip", "-T", "fields",
		"-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.Call-ID").Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// The log level and the SIP trace switch at runtime through the control
// socket; bad values are refused in words with exit status 1.
func TestLogLevelAndSIPTraceAtRuntime(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--log-level", "info")
	c := dialSIP(t, s, "udp")
	c.mustRegister("1001", "", 60, "", 401)
	if strings.Contains(s.logs(), `msg="sip received"`) {
		t.Fatal("SIP messages logged with sip_trace off")
	}
	if out := runCLI(t, "sip-trace", "on", "--data", s.data); !strings.Contains(out, "sip trace on") || !strings.Contains(out, "log level is info") {
		t.Fatalf("sip-trace on: %q", out)
	}
	c.mustRegister("1001", "", 60, "", 401)
	if strings.Contains(s.logs(), `msg="sip received"`) {
		t.Fatal("debug lines written at level info")
	}
	if out := runCLI(t, "log-level", "debug", "--data", s.data); out != "log level debug\n" {
		t.Fatalf("log-level debug: %q", out)
	}
	c.mustRegister("1001", "", 60, "", 401)
	waitFor(t, 5*time.Second, "the REGISTER in the log", func() bool {
		return strings.Contains(s.logs(), `msg="sip received" call_id=`+c.callID+" transport=udp")
	})
	waitFor(t, 5*time.Second, "the 401 in the log", func() bool {
		return strings.Contains(s.logs(), `msg="sip sent" call_id=`+c.callID+" transport=udp") &&
			strings.Contains(s.logs(), `first_line="SIP/2.0 401 Unauthorized"`)
	})
	runCLI(t, "sip-trace", "off", "--data", s.data)
	runCLI(t, "log-level", "warn", "--data", s.data)
	// The server may write its own line about the change after answering
	// the command: count from there.
	waitFor(t, 5*time.Second, "the level change in the log", func() bool {
		return strings.Contains(s.logs(), `msg="log level changed" from=DEBUG to=WARN`)
	})
	before := strings.Count(s.logs(), "\n")
	c.mustRegister("1001", "", 60, "", 401)
	time.Sleep(300 * time.Millisecond)
	if after := strings.Count(s.logs(), "\n"); after != before {
		t.Errorf("lines written at level warn with the trace off:\n%s", tail(s.logs(), after-before))
	}
	if e := runCLIFail(t, "log-level", "loud", "--data", s.data); !strings.Contains(e, `"loud": want debug, info, warn or error`) {
		t.Errorf("bad level: %q", e)
	}
	if e := runCLIFail(t, "sip-trace", "maybe", "--data", s.data); !strings.Contains(e, "want on or off") {
		t.Errorf("bad switch: %q", e)
	}
	if e := runCLIFail(t, "log-level", "debug", "--data", t.TempDir()); !strings.Contains(e, "no softswitch running") {
		t.Errorf("no server: %q", e)
	}
}

// `softswitch reload` recompiles the dialplan: a broken script is refused
// with its file:line and exit status 1 (the last good one keeps serving);
// a fixed one is taken.
func TestReloadReportsDialplanError(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(dialplanPath)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "plan.lua")
	if err := os.WriteFile(script, good, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--dialplan", script)
	if out := runCLI(t, "reload", "--data", s.data); !strings.Contains(out, "dialplan: reloaded") {
		t.Fatalf("reload: %q", out)
	}
	if err := os.WriteFile(script, []byte("function on_call(call)\n  call:answer(\nend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := runCLIFail(t, "reload", "--data", s.data)
	if !strings.Contains(e, script+`:3: near "end": syntax error`) || !strings.Contains(e, "reload refused") {
		t.Fatalf("reload of a broken dialplan: %q", e)
	}
	// The last good version still answers the test number.
	rtp := newRTPPeer(t)
	cl, res := dialSIP(t, s, "udp").answered("07010002000", rtp.port())
	cl.bye(res)
	if err := os.WriteFile(script, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := runCLI(t, "reload", "--data", s.data); !strings.Contains(out, "dialplan: reloaded") {
		t.Fatalf("reload of the fixed dialplan: %q", out)
	}
}
