// Package kamtest runs deploy/kamailio/kamailio.cfg for tests and
// benchmarks: the shipped configuration, unchanged, next to site files
// written for the run (local.cfg, dispatcher.list, tls.cfg), Kamailio in
// the foreground in its own process group.
package kamtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config is one run's site values.
type Config struct {
	CfgFile string   // path of deploy/kamailio/kamailio.cfg
	Dir     string   // where the site files go (the caller's temp dir)
	IP      string   // the edge's address
	UDPPort int      // SIP over UDP
	WSSPort int      // WSS (TLS + WebSocket)
	Nodes   []string // the nodes' SIP UDP addresses (host:port), dispatcher set 1
	Cert    string   // PEM certificate and key of the WSS listener
	Key     string
	// PikeDensity is pike's limit of requests per client address in 2 s;
	// 0 keeps the shipped 40 (a load generator needs more). Pike counts
	// in 16 bits: at most 65535.
	PikeDensity int
}

// ShmMB is Kamailio's shared memory in MB (-m), as kamailio.cfg's header
// asks: every transaction lives there, and at 200 calls/s through one
// edge the default 64 MB runs out (issue 19).
const ShmMB = "256"

// Edge is a running Kamailio.
type Edge struct {
	UDP, WSS string // host:port
	cmd      *exec.Cmd
	mu       sync.Mutex
	out      bytes.Buffer
	done     chan struct{}
}

// Start writes the site files and starts Kamailio; it returns once the
// edge answers OPTIONS (within 15 s).
func Start(ctx context.Context, cfg Config) (*Edge, error) {
	if _, err := exec.LookPath("kamailio"); err != nil {
		return nil, errors.New("kamailio not found: run `make deps` (Debian packages kamailio, kamailio-tls-modules, kamailio-websocket-modules)")
	}
	shipped, err := os.ReadFile(cfg.CfgFile)
	if err != nil {
		return nil, fmt.Errorf("kamtest: %w", err)
	}
	var ds strings.Builder
	for _, n := range cfg.Nodes {
		fmt.Fprintf(&ds, "1 sip:%s\n", n)
	}
	local := fmt.Sprintf("#!substdef \"!EDGE_IP!%s!g\"\n#!substdef \"!SIP_PORT!%d!g\"\n#!substdef \"!WSS_PORT!%d!g\"\n"+
		"#!substdef \"!DISPATCHER_LIST!%s!g\"\n#!substdef \"!TLS_CFG!%s!g\"\n",
		cfg.IP, cfg.UDPPort, cfg.WSSPort, filepath.Join(cfg.Dir, "dispatcher.list"), filepath.Join(cfg.Dir, "tls.cfg"))
	if cfg.PikeDensity > 0 {
		local += fmt.Sprintf("#!define PIKE_DENSITY %d\n", cfg.PikeDensity)
	}
	files := map[string]string{
		"kamailio.cfg":    string(shipped),
		"dispatcher.list": ds.String(),
		"local.cfg":       local,
		"tls.cfg": fmt.Sprintf("[server:default]\nmethod = TLSv1.2+\ncertificate = %s\nprivate_key = %s\nverify_certificate = no\nrequire_certificate = no\n",
			cfg.Cert, cfg.Key),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(cfg.Dir, name), []byte(body), 0o644); err != nil {
			return nil, fmt.Errorf("kamtest: %w", err)
		}
	}
	e := &Edge{UDP: net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.UDPPort)), WSS: net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.WSSPort)),
		done: make(chan struct{})}
	e.cmd = exec.Command("kamailio", "-f", filepath.Join(cfg.Dir, "kamailio.cfg"), "-DD", "-E", "-m", ShmMB, "-M", "8",
		"-w", cfg.Dir, "-Y", cfg.Dir, "-P", filepath.Join(cfg.Dir, "kamailio.pid"))
	e.cmd.Dir = cfg.Dir
	e.cmd.Stdout = writerFunc(e.write)
	e.cmd.Stderr = e.cmd.Stdout
	e.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers stop with it
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("kamtest: %w", err)
	}
	go func() { _ = e.cmd.Wait(); close(e.done) }()
	deadline := time.Now().Add(15 * time.Second)
	for !OptionsAnswered(e.UDP) {
		select {
		case <-e.done:
			return nil, fmt.Errorf("kamtest: kamailio exited at start:\n%s", e.Log())
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("kamtest: kamailio not answering OPTIONS after 15 s:\n%s", e.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e, nil
}

func (e *Edge) write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.Write(p)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Log is what Kamailio printed so far.
func (e *Edge) Log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.String()
}

// Pid is the main process's id (its workers are its children).
func (e *Edge) Pid() int { return e.cmd.Process.Pid }

// Stop kills Kamailio and its workers and waits for it.
func (e *Edge) Stop() {
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	<-e.done
}

// OptionsAnswered sends one OPTIONS to addr over UDP and tells whether a
// 200 came back within 300 ms.
func OptionsAnswered(addr string) bool {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return false
	}
	defer conn.Close()
	la := conn.LocalAddr().String()
	now := time.Now().UnixNano()
	msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@%s>;tag=p\r\nTo: <sip:%s>\r\nCall-ID: probe-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		addr, la, now, la, addr, now)
	if _, err := conn.Write([]byte(msg)); err != nil {
		return false
	}
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	return err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200"))
}
