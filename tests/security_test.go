package tests

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "softswitch.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Repeated failures from one address are throttled, then banned, and the
// log says so once; other addresses are not affected.
func TestBruteForceThrottledThenBanned(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "auth_guard:\n  throttle_after: 3\n  ban_after: 6\n  ban_for: 1m\n")
	s := startServer(t, "", "--config", cfg)
	c := dialSIP(t, s, "udp")
	c.challenge(c.mustRegister("1001", "", 600, "", 401))
	for i := 0; i < 3; i++ {
		c.mustRegister("1001", "guess-"+itoaT(i), 600, "", 403)
	}
	res := c.mustRegister("1001", "guess-now", 600, "", 503)
	if res.GetHeader("Retry-After") == nil {
		t.Fatalf("throttled without Retry-After: %s", res)
	}
	for i := 0; i < 50; i++ { // a flood while throttled: refused, logged once
		c.mustRegister("1001", "flood", 600, "", 503)
	}
	for i := 3; i < 6; i++ {
		time.Sleep(1100 * time.Millisecond)
		c.mustRegister("1001", "guess-"+itoaT(i), 600, "", 403)
	}
	// Banned: even the right password is refused.
	c.mustRegister("1001", testUsers["1001"], 600, "", 403)

	// Another source address (127.0.0.2 is loopback too) is unaffected.
	dialSIPFrom(t, s, "udp", "127.0.0.2").login("1002", testUsers["1002"], 600, "")

	logs := s.logs()
	for _, msg := range []string{`msg="auth source throttled"`, `msg="auth source banned"`} {
		if n := strings.Count(logs, msg); n != 1 {
			t.Errorf("%s logged %d times, want once", msg, n)
		}
	}
}

// A nonce past its lifetime gets 401 with stale=true; the fresh one works.
func TestStaleNonce(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "auth:\n  nonce_ttl: 1s\n")
	s := startServer(t, "", "--config", cfg)
	c := dialSIP(t, s, "tcp")
	c.login("1001", testUsers["1001"], 600, "")
	time.Sleep(1200 * time.Millisecond)
	res := c.mustRegister("1001", testUsers["1001"], 600, "", 401)
	if !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce not answered with stale=true: %s", res)
	}
	// A wrong password with the same expired nonce is refused, not told "stale".
	c.mustRegister("1001", "wrong", 600, "", 403)
	c.challenge(res)
	c.mustRegister("1001", testUsers["1001"], 600, "", 200)
}

// Bad configuration, a port in use and an unreadable certificate end the
// process with a non-zero status and one clear line.
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	badCert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(badCert, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	brokenLua := filepath.Join(dir, "broken.lua")
	if err := os.WriteFile(brokenLua, []byte("function on_call(call)\n  call:answer(\nend\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad address", []string{"--sip", "nonsense"}, `sip: "nonsense" is not host:port`},
		{"bad port range", []string{"--rtp-ports", "9-3"}, "rtp_ports"},
		{"bad log level", []string{"--log-level", "loud"}, "log_level"},
		{"unknown config key", []string{"--config", writeConfig(t, "sipp: 1\n")}, "field sipp not found"},
		{"port in use", []string{"--sip", busy.Addr().String()}, "address already in use"},
		{"unreadable certificate", []string{"--config", writeConfig(t, "tls_cert: "+badCert+"\ntls_key: "+badCert+"\n")}, "tls certificate"},
		{"missing config file", []string{"--config", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"missing dialplan", []string{"--dialplan", filepath.Join(dir, "nope.lua")}, "nope.lua"},
		{"broken dialplan", []string{"--dialplan", brokenLua}, "broken.lua:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data", t.TempDir(), "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:0", "--https", "127.0.0.1:0",
				"--dialplan", dialplanPath, "--webrtc-port", "0"}, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil || cmd.ProcessState.ExitCode() == 0 {
				t.Fatalf("exit status 0, want non-zero; stderr:\n%s", stderr.String())
			}
			last := lastLine(stderr.String())
			if !strings.HasPrefix(last, "softswitch: ") || !strings.Contains(last, tt.want) {
				t.Fatalf("last stderr line %q, want it to mention %q", last, tt.want)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func itoaT(i int) string { return string(rune('0' + i)) }
