package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sippRun is one bounded sipp run as a client.
type sippRun struct {
	scenario  string            // file in testdata/sipp
	transport string            // "udp" or "tcp"
	users     [][2]string       // injection: user, password
	keys      map[string]string // -key name value
	calls     int               // -m; default len(users)
	port      int               // sipp's local port; 0: a free one
	service   string            // -s: the user part of the Request-URI
	ip        string            // sipp's local address; default 127.0.0.1
	rate      int               // -r: new calls a second; 0: sipp's default (10)
	limit     time.Duration     // -timeout for the whole run; default 40s
	subst     map[string]string // replaced in the scenario's text (e.g. "@BODY@")
}

// run executes sipp against target (as a server when target is "") and
// returns its exit status and logs.
// sipp writes its trace files next to the scenario, so it runs from a copy
// in a temporary directory.
// A free port chosen here can be taken by another test before sipp binds it:
// such a start is retried on a fresh port.
func (r sippRun) run(t *testing.T, target string) (int, string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		code, logs := r.runOnce(t, target)
		if code == 0 || r.port != 0 || attempt == 3 || !strings.Contains(logs, "Address already in use") {
			return code, logs
		}
		t.Logf("sipp %s: its port was taken before it bound it, retrying", r.scenario)
	}
}

func (r sippRun) runOnce(t *testing.T, target string) (int, string) {
	t.Helper()
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp not found: run `make deps` (Debian package sip-tester)")
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "sipp", r.scenario))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.subst {
		src = bytes.ReplaceAll(src, []byte(k), []byte(v))
	}
	scen := filepath.Join(dir, r.scenario)
	if err := os.WriteFile(scen, src, 0o644); err != nil {
		t.Fatal(err)
	}
	csv := "SEQUENTIAL\n"
	for _, u := range r.users {
		csv += fmt.Sprintf("%s;%s;[authentication username=%s password=%s]\n", u[0], u[1], u[0], u[1])
	}
	inf := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(inf, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := r.calls
	if calls == 0 {
		calls = max(1, len(r.users))
	}
	mode := "u1"
	if r.transport == "tcp" {
		mode = "t1"
	}
	ip := r.ip
	if ip == "" {
		ip = "127.0.0.1"
	}
	port := r.port
	if port == 0 && ip == "127.0.0.1" {
		port = freePort(t, r.transport)
	} else if port == 0 {
		port = freePortOn(t, "udp", ip)
	}
	limit := r.limit
	if limit == 0 {
		limit = 40 * time.Second
	}
	var args []string
	if target != "" {
		args = append(args, target)
	}
	if len(r.users) > 0 || target != "" {
		args = append(args, "-inf", inf)
	}
	args = append(args, "-sf", scen, "-m", strconv.Itoa(calls), "-t", mode,
		"-i", ip, "-p", strconv.Itoa(port),
		"-timeout", strconv.Itoa(int(limit.Seconds()))+"s", "-timeout_error", "-recv_timeout", "5000", "-nostdin",
		"-trace_err", "-trace_msg", "-max_recv_loops", "1000")
	if r.rate > 0 {
		args = append(args, "-r", strconv.Itoa(r.rate))
	}
	if r.service != "" {
		args = append(args, "-s", r.service)
	}
	for k, v := range r.keys {
		args = append(args, "-key", k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, args...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	logs := string(out)
	matches, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		logs += "\n==== " + filepath.Base(m) + "\n" + string(b)
	}
	return code, logs
}

// mustPass runs sipp and fails the test unless every call succeeded.
func (r sippRun) mustPass(t *testing.T, target string) {
	t.Helper()
	if code, logs := r.run(t, target); code != 0 {
		t.Fatalf("sipp %s over %s exited %d, want 0:\n%s", r.scenario, r.transport, code, logs)
	}
}

// freePort asks the OS for a free loopback port for sipp's local socket.
func freePort(t *testing.T, transport string) int {
	t.Helper()
	if transport == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
