package tests

import (
	"bytes"
	"context"
	"encoding/json"
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
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	waitLogLine(t, logPath, "softswitch running", exited)

	// logrotate: move the file, then signal.
	rotated := logPath + ".1"
	if err := os.Rename(logPath, rotated); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitLogLine(t, logPath, "log file reopened", exited)
	runCLI(t, "reload", "--data", data) // logs to the new file
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the deferred wait
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\nstderr %s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}

	if stderr.Len() != 0 {
		t.Errorf("stderr with a log file: %q", stderr.String())
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

// waitLogLine waits (bounded) until the log file has a line holding msg.
func waitLogLine(t *testing.T, path, msg string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(`"msg":"`+msg+`"`)) {
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("serve exited (%v) before logging %q:\n%s", err, msg, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in %s within 30s:\n%s", msg, path, b)
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
