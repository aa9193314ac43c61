package main

import (
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadPasswordStdin(t *testing.T) {
	var out bytes.Buffer
	for in, want := range map[string]string{"s3cret-pw\nignored\n": "s3cret-pw", "crlf-pw\r\n": "crlf-pw", "no-newline": "no-newline"} {
		if got, err := readPassword("", true, strings.NewReader(in), &out); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", strings.Repeat("x", maxPasswordLine+1)} {
		if _, err := readPassword("", true, strings.NewReader(in), &out); err == nil {
			t.Errorf("%.20q accepted", in)
		}
	}
	// Not a terminal, no flag: "" (generate one).
	if got, err := readPassword("", false, strings.NewReader("x\n"), &out); err != nil || got != "" {
		t.Errorf("no terminal: %q %v", got, err)
	}
	if code, _, errs := runCLI("user", "add", "--password-stdin", "1000", "--password", "abcd"); code != 2 || !strings.Contains(errs, "exclude") {
		t.Errorf("both: %d %q", code, errs)
	}
}

// openPTY returns a pseudo-terminal's master and its terminal end.
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// On a terminal the password is asked twice without echo, and the
// terminal's echo is back afterwards.
func TestPromptPasswordNoEcho(t *testing.T) {
	m, s := openPTY(t)
	var out bytes.Buffer
	type result struct {
		pw  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := readPassword("", false, s, &out)
		done <- result{pw, err}
	}()
	// Typed once echo is off: the prompt function turns it off before reading.
	deadline := time.Now().Add(10 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo never turned off")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := m.Write([]byte("typed-secret\ntyped-secret\n")); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("prompt did not return")
	}
	if r.err != nil || r.pw != "typed-secret" {
		t.Fatalf("prompt: %q %v", r.pw, r.err)
	}
	if !strings.Contains(out.String(), "Password") || !strings.Contains(out.String(), "Again") {
		t.Fatalf("prompts: %q", out.String())
	}
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil || tio.Lflag&unix.ECHO == 0 {
		t.Fatalf("echo not restored: %v", err)
	}
	// Nothing typed came back on the terminal.
	fds := []unix.PollFd{{Fd: int32(m.Fd()), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 200); err == nil && n == 1 && fds[0].Revents&unix.POLLIN != 0 {
		buf := make([]byte, 256)
		n, _ := m.Read(buf)
		if bytes.Contains(buf[:n], []byte("typed-secret")) {
			t.Fatalf("the password was echoed: %q", buf[:n])
		}
	}
}

func TestBuildVersion(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-06T08:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tt := range []struct {
		v    string
		info *debug.BuildInfo
		want string
	}{
		{"1.2.3", vcs, "1.2.3"},
		{"dev", vcs, "dev-0123456789ab-dirty (2026-12-06T08:00:00Z)"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.1"}}, "v0.4.1"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"dev", nil, "dev"},
	} {
		if got := buildVersion(tt.v, tt.info); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.v, got, tt.want)
		}
	}
}
