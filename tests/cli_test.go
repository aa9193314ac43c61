package tests

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The built binary: `serve` from another directory with no flags fails
// on the missing dialplan before it creates anything, in an empty working
// directory and in /.
func TestServeFromElsewhereCreatesNothing(t *testing.T) {
	t.Parallel()
	_, rootData := os.Stat("/data")
	for _, dir := range []string{t.TempDir(), "/"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, binary, "serve")
		cmd.Dir = dir
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "scripts/dialplan.lua") ||
			!strings.Contains(stderr.String(), "nothing was created") || stdout.String() != "" {
			t.Fatalf("serve in %s: %v, stdout %q, stderr %q", dir, err, stdout.String(), stderr.String())
		}
		if dir != "/" {
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("serve in %s left %v", dir, left)
			}
		} else if _, err := os.Stat("/data"); (err == nil) != (rootData == nil) {
			t.Fatalf("serve in / changed /data: %v before, %v after", rootData, err)
		}
	}
}

// With a config file elsewhere, serve started from / works: the file's
// relative paths resolve against its directory, its demo extensions are
// created and their passwords printed once; user list finds them there.
// Without the config no extension is created.
func TestServeConfigPathsRelativeToFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plan, err := os.ReadFile(dialplanPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.lua"), plan, 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softswitch.yaml")
	if err := os.WriteFile(conf, []byte("data: state\ndialplan: plan.lua\ndemo_users: true\nsip: 127.0.0.1:0\nsip_tls: \"\"\nhttps: \"\"\n"+
		"webrtc_port: 0\nmedia_ip: 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := serveUntilRunning(t, "/", "serve", "--config", conf)
	if !strings.Contains(out, "shown only this once") || !strings.Contains(out, "  1000  ") || !strings.Contains(out, "  1003  ") {
		t.Fatalf("demo passwords not printed:\n%s", out)
	}
	users := runCLI(t, "user", "list", "--data", filepath.Join(dir, "state"))
	for _, ext := range []string{"1000", "1001", "1002", "1003"} {
		if !strings.Contains(users, ext) {
			t.Fatalf("user list lacks %s:\n%s", ext, users)
		}
	}
	// No config: no demo extensions (the database exists, empty).
	data := t.TempDir()
	if out := serveUntilRunning(t, "/", "serve", "--data", data, "--dialplan", dialplanPath, "--sip", "127.0.0.1:0",
		"--sip-tls", "", "--https", "", "--webrtc-port", "0", "--media-ip", "127.0.0.1"); out != "" {
		t.Fatalf("serve without a config printed:\n%s", out)
	}
	if lines := strings.Split(strings.TrimSpace(runCLI(t, "user", "list", "--data", data)), "\n"); len(lines) != 1 {
		t.Fatalf("serve without a config created extensions: %q", lines)
	}
	// Elsewhere, no database: refused, exit 1, nothing created.
	empty := t.TempDir()
	if e := runCLIFail(t, "user", "list", "--data", empty); !strings.Contains(e, "no softswitch database in "+empty) {
		t.Fatalf("user list without a database: %q", e)
	}
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Fatalf("user list created %v", left)
	}
}

// serveUntilRunning starts the binary in dir, waits (bounded) for
// "softswitch running", stops it with SIGTERM and returns its stdout.
func serveUntilRunning(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var stdout strings.Builder
	cmd.Stdout = &stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	running := make(chan bool, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !found && strings.Contains(sc.Text(), `msg="softswitch running"`) {
				found = true
				running <- true
			}
		}
		if !found {
			running <- false
		}
	}()
	var ok bool
	select {
	case ok = <-running:
	case <-time.After(40 * time.Second):
	}
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	pw.Close()
	if !ok {
		t.Fatalf("softswitch %v did not start:\n%s", args, log.String())
	}
	return stdout.String()
}

// cdrExport returns `cdr list --format csv` as rows by column name and
// `--format json` decoded, for the tests' CDR checks.
func cdrExport(t *testing.T, data string) ([]map[string]string, []map[string]any) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(runCLI(t, "cdr", "list", "--last", "0", "--format", "csv", "--data", data))).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("cdr csv: %v", err)
	}
	var byName []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		byName = append(byName, m)
	}
	var js []map[string]any
	if err := json.Unmarshal([]byte(runCLI(t, "cdr", "list", "--last", "0", "--format", "json", "--data", data)), &js); err != nil {
		t.Fatalf("cdr json: %v", err)
	}
	return byName, js
}
