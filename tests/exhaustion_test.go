package tests

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Descriptor exhaustion (issue 12): idle connections from several sources
// use up every descriptor of the server (its open-file limit lowered to a
// few hundred while it runs, so a few hundred connections do what ~20,000
// do at the default limit); accept then fails with EMFILE. The TCP and TLS
// listeners keep running: once the attackers leave, REGISTER over TCP and
// TLS succeeds. Our Server header carries no version.
func TestDescriptorExhaustion(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	pid := strconv.Itoa(s.cmd.Process.Pid)
	if out, err := exec.Command("prlimit", "--pid", pid, "--nofile=300:300").CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v %s", err, out)
	}
	var attackers []net.Conn
	defer func() {
		for _, c := range attackers {
			_ = c.Close()
		}
	}()
	// Five sources of up to 100 connections each (the per-source cap),
	// half to TCP and half to TLS: more than the 300 descriptors.
	for src := 1; src <= 5; src++ {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(src))}}
		for i := 0; i < 100; i++ {
			addr := s.addr("tcp")
			if i%2 == 1 {
				addr = s.addr("tls")
			}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatalf("attacker %d.%d: %v", src, i, err)
			}
			attackers = append(attackers, c)
		}
	}
	// Give the accept loops time to meet EMFILE (the log line says they did).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(s.logs(), "accepting a connection failed") {
			break
		}
	}
	for _, c := range attackers {
		_ = c.Close()
	}
	attackers = nil
	for _, transport := range []string{"tcp", "tls"} {
		res := dialSIP(t, s, transport).login("1001", testUsers["1001"], 300, "")
		if h := res.GetHeader("Server"); h == nil || h.Value() != "softswitch" {
			t.Fatalf("Server header %v, want softswitch without a version", h)
		}
	}
	if !strings.Contains(s.logs(), "accepting a connection failed") {
		t.Fatalf("%d idle connections did not exhaust the descriptors:\n%s", 500, s.logs())
	}
	if strings.Contains(s.logs(), "sip listener stopped") {
		t.Fatalf("a listener stopped:\n%s", s.logs())
	}
	s.alive()
}

// Idle connections to the web phone's HTTPS port (which carries SIP over
// WebSocket) count in the same per-source cap as SIP's: one source holding
// 300 of them keeps 100 (the default cap), so with 300 descriptors SIP over
// TCP, TLS and WSS is still served while it holds them. Before, each one
// held a descriptor and accept failed with EMFILE on every port.
func TestIdleWebConnectionsDoNotStarveSIP(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	pid := strconv.Itoa(s.cmd.Process.Pid)
	if out, err := exec.Command("prlimit", "--pid", pid, "--nofile=300:300").CombinedOutput(); err != nil {
		t.Fatalf("prlimit: %v %s", err, out)
	}
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 2, 1)}}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for i := 0; i < 300; i++ {
		c, err := d.Dial("tcp", s.addr("https"))
		if err != nil {
			t.Fatalf("attacker connection %d: %v", i, err)
		}
		held = append(held, c)
	}
	capped := func() bool {
		for _, line := range strings.Split(s.logs(), "\n") {
			if strings.Contains(line, "per-source connection limit reached") && strings.Contains(line, "transport=https") {
				return true
			}
		}
		return false
	}
	// Let the server take them all (it logs the cap, or runs out).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !capped(); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(s.logs(), "accepting a connection failed") {
			break
		}
	}
	for _, transport := range []string{"tcp", "tls", "wss"} {
		dialSIP(t, s, transport).login("1001", testUsers["1001"], 300, "")
	}
	if !capped() {
		t.Fatalf("the per-source cap was not applied to the https port:\n%s", s.logs())
	}
	if strings.Contains(s.logs(), "accepting a connection failed") {
		t.Fatalf("descriptors ran out while one source held web connections:\n%s", s.logs())
	}
	s.alive()
}
