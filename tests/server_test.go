package tests

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the softswitch built once for all tests.
var binary string

const (
	binaryEnv = "SOFTSWITCH_E2E_BINARY"
	// e2eParallel is how many parallel tests run at once unless -parallel
	// says otherwise. Not GOMAXPROCS (go test's default): these tests
	// mostly wait on real clients, held calls and timers, not on the CPU;
	// on 2 cores, 2 at a time left the CPU 30-65 % idle.
	e2eParallel = 4
	// testHostIP is a second address on the namespace's loopback
	// interface: baresip (libre) refuses 127.0.0.0/8 as its own address.
	testHostIP = "198.18.0.1"
)

// TestMain builds the softswitch, then runs the tests again inside a
// private network namespace that has only a loopback interface, so no
// test packet can leave this machine whatever address it is sent to.
func TestMain(m *testing.M) {
	if bin := os.Getenv(binaryEnv); bin != "" {
		binary = bin
		flag.Parse()
		if !flagGiven("test.parallel") {
			_ = flag.Set("test.parallel", strconv.Itoa(e2eParallel))
		}
		os.Exit(m.Run())
	}
	os.Exit(runInNamespace())
}

func runInNamespace() int {
	dir, err := os.MkdirTemp("", "softswitch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "softswitch")
	build := exec.Command("go", "build", "-o", bin, "../cmd/softswitch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building softswitch:", err)
		return 1
	}
	if _, err := exec.LookPath("unshare"); err != nil || os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "end-to-end tests run in a private network namespace: they need root and unshare (util-linux) and ip (iproute2)")
		return 1
	}
	setup := "ip link set lo up && ip addr add " + testHostIP + "/32 dev lo" + nodeAddrs() + " && exec \"$@\""
	cmd := exec.Command("unshare", append([]string{"--net", "--", "sh", "-c", setup, "sh", os.Args[0]}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), binaryEnv+"="+bin)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "running the tests in a network namespace:", err)
		return 1
	}
	return 0
}

// flagGiven tells whether the named flag was set on the command line.
func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// server is a running softswitch on loopback.
type server struct {
	t       *testing.T
	data    string
	cmd     *exec.Cmd
	addrs   map[string]string // transport -> host:port
	mu      sync.Mutex
	stderr  bytes.Buffer
	stdout  bytes.Buffer
	exited  chan struct{}
	waitErr error
}

// users every test server has, with known passwords.
var testUsers = map[string]string{"1001": "pw-1001-secret", "1002": "pw-1002-secret"}

// startServer runs softswitch with a fresh (or the given) data directory
// and every listener on an OS-chosen loopback port.
func startServer(t *testing.T, data string, extraArgs ...string) *server {
	t.Helper()
	if data == "" {
		data = t.TempDir()
		runCLI(t, "init", "--data", data) // user add refuses a directory without a database
		for ext, pw := range testUsers {
			runCLI(t, "user", "add", ext, "--password", pw, "--data", data)
		}
	}
	args := append([]string{"serve", "--data", data, "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0",
		"--https", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--log-level", "debug",
		"--media-ip", "127.0.0.1", "--dialplan", dialplanPath, "--webrtc-port", "0"}, extraArgs...)
	s := &server{t: t, data: data, addrs: map[string]string{}, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stdout = &lockedWriter{mu: &s.mu, w: &s.stdout}
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	listening := regexp.MustCompile(`msg=listening transport=(\w+) addr=(\S+)`)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				s.addrs[m[1]] = m[2]
			}
			s.mu.Unlock()
			if !signalled && strings.Contains(line, `msg="softswitch running"`) {
				signalled = true
				close(ready)
			}
		}
	}()
	go func() {
		s.waitErr = s.cmd.Wait()
		pw.Close()
		close(s.exited)
	}()
	select {
	case <-ready:
	case <-s.exited:
		t.Fatalf("softswitch exited at start: %v\n%s", s.waitErr, s.logs())
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("softswitch did not start in 20s:\n%s", s.logs())
	}
	t.Cleanup(func() {
		s.stop(syscall.SIGKILL)
		if t.Failed() || os.Getenv("SOFTSWITCH_TEST_LOGS") != "" { // set: the log of a passing test too (e.g. to audit its warnings)
			t.Logf("softswitch log:\n%s", s.logs())
		}
	})
	return s
}

// stop signals the server and waits (bounded) for it to exit.
func (s *server) stop(sig syscall.Signal) error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("softswitch did not exit within 15s of %v", sig)
	}
	return s.waitErr
}

func (s *server) addr(transport string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.addrs[transport]
	if a == "" {
		s.t.Fatalf("no %s listener", transport)
	}
	return a
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// alive fails the test if the server process has exited.
func (s *server) alive() {
	s.t.Helper()
	select {
	case <-s.exited:
		s.t.Fatalf("softswitch exited: %v\n%s", s.waitErr, s.logs())
	default:
	}
}

// registrations returns `softswitch user list` for one extension.
func (s *server) registrations(ext string) string {
	s.t.Helper()
	out := runCLI(s.t, "user", "list", "--data", s.data)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == ext {
			return line
		}
	}
	s.t.Fatalf("extension %s not listed:\n%s", ext, out)
	return ""
}

// waitFor polls cond every 50 ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runCLI runs a softswitch command that must succeed and returns its stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("softswitch %v: %v\n%s%s", args, err, out, stderr)
	}
	return string(out)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

const sigterm = syscall.SIGTERM

// The end-to-end tests run where only loopback exists: nothing they send
// can reach another machine.
func TestRunsInPrivateNetworkNamespace(t *testing.T) {
	t.Parallel()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Flags&net.FlagLoopback == 0 {
		t.Fatalf("interfaces %v, want loopback only", ifs)
	}
}
