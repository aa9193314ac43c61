package main

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
	"sync"
	"time"
)

// benchDialplan bridges every 4-digit number to that extension; the test
// number plays the test audio, and 07010002001 answers and stays silent
// (a call with its endpoint and no prompt, the prompt stage's baseline);
// conf-NAME joins conference room conf-NAME.
const benchDialplan = `function on_call(call)
  local d = call.destination
  if d == "07010002000" then
    call:answer(); call:play("test-audio"); return call:hangup()
  end
  if d == "07010002001" then
    call:answer(); call:collect{max = 1, timeout = 30}; return call:hangup()
  end
  if d:match("^conf%-") then
    call:conference(d); return call:hangup()
  end
  if d:match("^%d%d%d%d$") then
    local ok, why = call:bridge({"user/" .. d}, {timeout = 10})
    if not ok then return call:hangup(why) end
    return
  end
  call:hangup("not-found")
end
`

// freePort returns a UDP port on 127.0.0.1 that the OS had free a moment ago.
func freePort() (int, error) { return freePortOn("127.0.0.1") }

// freePortOn returns a UDP port on ip that the OS had free a moment ago.
func freePortOn(ip string) (int, error) {
	c, err := net.ListenPacket("udp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// user is an extension with its password.
type user struct{ ext, password string }

func makeUsers(first, n int) []user {
	us := make([]user, n)
	for i := range us {
		ext := strconv.Itoa(first + i)
		us[i] = user{ext: ext, password: "pw-" + ext + "-bench"}
	}
	return us
}

// softswitch is a running softswitch process.
type softswitch struct {
	cmd    *exec.Cmd
	sip    string // 127.0.0.1:port (UDP)
	pprof  string // 127.0.0.1:port of its Go profiles
	stderr *bytes.Buffer
	done   chan struct{}
	// logFile holds a node's log (its stderr) instead of stderr, for -keep.
	logFile *os.File
}

// addUsers creates the users with `softswitch user add`, a few at a time,
// in the SQLite database of data (or, with db set, the PostgreSQL one).
func addUsers(ctx context.Context, bin, data, db string, users []user) error {
	where := []string{"--data", data}
	if db != "" {
		where = append(where, "--db", db)
	}
	// user add refuses a directory without a database; a binary older
	// than `init` creates it itself.
	if out, err := exec.CommandContext(ctx, bin, append([]string{"init"}, where...)...).CombinedOutput(); err != nil && !strings.Contains(string(out), "unknown command") {
		return fmt.Errorf("init %s: %v: %s", data, err, out)
	}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, u := range users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := exec.CommandContext(ctx, bin, append([]string{"user", "add", u.ext, "--password", u.password}, where...)...).CombinedOutput()
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("user add %s: %v: %s", u.ext, err, out)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// prepareSoftswitch creates the data directory with the users.
func prepareSoftswitch(ctx context.Context, bin, dir string, users []user) error {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	return addUsers(ctx, bin, data, "", users)
}

// node places a softswitch as one of several behind a proxy, sharing a
// PostgreSQL database (issue 19).
type node struct {
	name, ip, dsn, proxy string
}

// startSoftswitch runs the binary on the data directory made by
// prepareSoftswitch, with SIP over UDP on a free loopback port, other SIP
// listeners off, logs at warn (as in production under load).
func startSoftswitch(ctx context.Context, bin, dir string, profile bool) (*softswitch, error) {
	return startNode(ctx, bin, dir, profile, nil)
}

// startNode is startSoftswitch, as node n when n is set: on n's address,
// with its database and proxy, and the HTTPS listener on (its development
// certificate serves the proxy's WSS).
func startNode(ctx context.Context, bin, dir string, profile bool, n *node) (*softswitch, error) {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	plan := filepath.Join(dir, "dialplan.lua")
	if err := os.WriteFile(plan, []byte(benchDialplan), 0o644); err != nil {
		return nil, err
	}
	// All load comes from one address (sipp, the generators): the
	// per-source rate limit is off, as Kamailio here runs without pike.
	conf := filepath.Join(dir, "softswitch.yaml")
	yaml := "rate_limit:\n  invite: {rate: -1}\n  register: {rate: -1}\n"
	ip, https := "127.0.0.1", ""
	if n != nil {
		ip, https = n.ip, n.ip+":0"
		yaml += fmt.Sprintf("node: %s\ndatabase: {driver: postgres, dsn: %q}\nproxies: [%s]\n", n.name, n.dsn, n.proxy)
	}
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		return nil, err
	}
	port, err := freePortOn(ip)
	if err != nil {
		return nil, err
	}
	s := &softswitch{sip: net.JoinHostPort(ip, strconv.Itoa(port)), stderr: &bytes.Buffer{}, done: make(chan struct{})}
	args := []string{"serve", "--config", conf, "--data", data, "--sip", s.sip, "--sip-tls", "", "--https", https, "--ws", "",
		"--media-ip", ip, "--dialplan", plan, "--webrtc-port", "0", "--log-level", "warn"}
	if profile { // a binary older than --pprof can still be measured without it
		pport, err := freePort()
		if err != nil {
			return nil, err
		}
		s.pprof = "127.0.0.1:" + strconv.Itoa(pport)
		args = append(args, "--pprof", s.pprof)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stderr = &lockedBuffer{b: s.stderr}
	if n != nil { // its log is kept with the run's files (-keep)
		f, err := os.Create(filepath.Join(dir, "softswitch.log"))
		if err != nil {
			return nil, err
		}
		s.cmd.Stderr = f
		s.logFile = f
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := waitSIP(ctx, s.sip, s.done, 20*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("softswitch: %w\n%s", err, s.stderr)
	}
	return s, nil
}

func (s *softswitch) tree() procTree { return procTree{root: s.cmd.Process.Pid} }

// stop kills the process and waits for it (bounded).
func (s *softswitch) stop() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
}

// waitSIP sends OPTIONS until addr answers, the process exits or d passes.
func waitSIP(ctx context.Context, addr string, exited <-chan struct{}, d time.Duration) error {
	deadline := time.Now().Add(d)
	for i := 0; time.Now().Before(deadline); i++ {
		select {
		case <-exited:
			return fmt.Errorf("exited at start")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		c, err := net.Dial("udp4", addr)
		if err != nil {
			return err
		}
		local := c.LocalAddr().String()
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKping%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:ping@%s>;tag=p%d\r\nTo: <sip:%s>\r\nCall-ID: ping-%d@bench\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			addr, local, i, local, i, addr, i)
		_, _ = c.Write([]byte(msg))
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		c.Close()
		if err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) {
			return nil
		}
	}
	return fmt.Errorf("no answer to OPTIONS on %s within %v", addr, d)
}

// lockedBuffer is an io.Writer safe for a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

// tail returns the last n bytes written (of the first MiB kept).
func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.b.Bytes()
	return string(b[max(0, len(b)-n):])
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil // keep the first MiB
	}
	return l.b.Write(p)
}
