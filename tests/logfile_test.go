package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve --log-file --log-format json writes JSON lines to the file and
// nothing to stderr; after logrotate's move, SIGUSR1 makes it write to a
// new file at the same path while the moved one gets no more lines.
func TestLogFileJSONAndReopenOnSIGUSR1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	runCLI(t, "init", "--data", data)
	logPath := filepath.Join(dir, "log", "softswitch.log")
	if err := os.Mkdir(filepath.Dir(logPath), 0o750); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--data", data, "--dialplan", dialplanPath, "--sip", "127.0.0.1:0",
		"--sip-tls", "", "--https", "", "--webrtc-port", "0", "--media-ip", "127.0.0.1",
		"--log-format", "json", "--log-file", logPath)
	p := startBackground(t, cmd)
	p.waitFileText(t, logPath, `"msg":"softswitch running"`)

	// logrotate: move the file, then signal.
	rotated := logPath + ".1"
	if err := os.Rename(logPath, rotated); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	p.waitFileText(t, logPath, `"msg":"log file reopened"`)
	runCLI(t, "reload", "--data", data) // logs to the new file
	if err := p.stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("serve after SIGTERM: %v\nstderr %s", err, p.stderr.String())
	}
	if p.stderr.Len() != 0 || p.stdout.Len() != 0 {
		t.Errorf("with a log file: stdout %q, stderr %q", p.stdout.String(), p.stderr.String())
	}
	before, after := readJSONLog(t, rotated), readJSONLog(t, logPath)
	if !hasMsg(before, "listening") || !hasMsg(before, "softswitch running") || hasMsg(before, "stopped") {
		t.Errorf("rotated file: %v", msgs(before))
	}
	for _, want := range []string{"log file reopened", "stopped"} {
		if !hasMsg(after, want) {
			t.Errorf("new file lacks %q: %v", want, msgs(after))
		}
	}
	if len(after) < 3 { // reopened, the reload's lines, stopped
		t.Errorf("new file: %v", msgs(after))
	}
	for _, rec := range append(before, after...) {
		if _, err := time.Parse(time.RFC3339Nano, rec["time"].(string)); err != nil || rec["level"] == nil {
			t.Fatalf("record without time or level: %v", rec)
		}
	}
	t.Logf("%d lines before the rotation, %d after", len(before), len(after))
}

// background is a command running while the test goes on; the test ends
// it (SIGKILL) if it is still running.
type background struct {
	cmd            *exec.Cmd
	exited         chan error   // its Wait's result, put back by each reader
	stdout, stderr bytes.Buffer // read only once it has exited
}

func startBackground(t *testing.T, cmd *exec.Cmd) *background {
	t.Helper()
	p := &background{cmd: cmd, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// stop signals the process and waits at most d for its exit status; past
// d it is killed (so that its output may be read).
func (p *background) stop(sig syscall.Signal, d time.Duration) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		return err
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		p.exited <- <-p.exited
		return fmt.Errorf("still running %v after %v: killed", d, sig)
	}
}

// waitFileText waits (bounded) until the file at path holds text; the
// process exiting first fails the test.
func (p *background) waitFileText(t *testing.T, path, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(text)) {
			return
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("exited (%v) before writing %s to %s; stderr %q; file:\n%s", err, text, path, p.stderr.String(), b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in %s within 30s:\n%s", text, path, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readJSONLog decodes every line of a JSON log with encoding/json.
func readJSONLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: not a JSON line: %q: %v", path, line, err)
		}
		recs = append(recs, m)
	}
	return recs
}

func hasMsg(recs []map[string]any, msg string) bool {
	for _, r := range recs {
		if r["msg"] == msg {
			return true
		}
	}
	return false
}

func msgs(recs []map[string]any) []any {
	var out []any
	for _, r := range recs {
		out = append(out, r["msg"])
	}
	return out
}

// A start that fails once logging has begun says why in the log file as
// well as on stderr (where a log file's reader would not look).
func TestLogFileGetsStartError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "softswitch.db"), []byte("not a database\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "softswitch.log")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, "serve", "--data", data, "--dialplan", dialplanPath, "--sip", "127.0.0.1:0",
		"--sip-tls", "", "--https", "", "--webrtc-port", "0", "--log-format", "json", "--log-file", logPath)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "not a database") {
		t.Fatalf("serve on a broken database: %v, stderr %q", err, stderr.String())
	}
	recs := readJSONLog(t, logPath)
	last := recs[len(recs)-1]
	if last["level"] != "ERROR" || !strings.Contains(fmt.Sprint(last["error"]), "not a database") {
		t.Fatalf("log file's last record: %v", last)
	}
}
