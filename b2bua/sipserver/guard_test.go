package sipserver

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/ratelog"
)

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is a Server on loopback answering REGISTER with 200, its
// UDP/TCP and TLS addresses, and its log.
type testServer struct {
	*Server
	sip, tls string
	log      *lockedBuffer
}

func startTestServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	buf := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	s.Handle(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) { s.Reply(req, tx, 200, "OK") })
	addr, err := s.ListenUDPAndTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taddr, err := s.ListenTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{Server: s, sip: addr, tls: taddr, log: buf}
}

func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// dialFrom opens a TCP connection to addr from the loopback address local
// (any 127.x.y.z works on Linux), or from 127.0.0.1 when local is "".
func dialFrom(local, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	return d.Dial("tcp", addr)
}

// register sends a REGISTER on c and returns the status line of the answer.
func register(c net.Conn, transport string) (string, error) {
	la := c.LocalAddr().String()
	branch := fmt.Sprintf("z9hG4bK%d", time.Now().UnixNano())
	msg := "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/" + transport + " " + la + ";branch=" + branch + "\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: " + branch + "\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:1001@" + la + ">\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	return request(c, msg)
}

func request(c net.Conn, msg string) (string, error) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", fmt.Errorf("write: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// closedByServer reports whether the server closes c within d.
func closedByServer(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func mustRegister(t *testing.T, s *testServer, transport string) {
	t.Helper()
	addr := s.sip
	if transport == "TLS" {
		addr = s.tls
	}
	var c net.Conn
	var err error
	if transport == "TLS" {
		c, err = tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = dialFrom("", addr)
	}
	if err != nil {
		t.Fatalf("%s dial: %v", transport, err)
	}
	defer c.Close()
	if line, err := register(c, transport); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("%s REGISTER: %q, %v", transport, line, err)
	}
}

// Beyond the per-source cap and the global ceiling a connection is closed
// at once; idle connections are closed after the idle timeout, one that
// sent a request is kept, and the server then serves new ones.
func TestConnectionCapsAndIdleTimeout(t *testing.T) {
	s := startTestServer(t, Config{Conns: ConnLimits{Max: 12, PerSource: 4, IdleTimeout: 700 * time.Millisecond}})
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			_ = c.Close()
		}
	}()
	open := func(local string) net.Conn {
		c, err := dialFrom(local, s.sip)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
		return c
	}
	for i := 0; i < 4; i++ {
		open("127.0.0.1")
	}
	waitOpen(t, s, 4)
	if c := open("127.0.0.1"); !closedByServer(c, 300*time.Millisecond) {
		t.Fatal("a fifth connection from one source was kept (per_source 4)")
	}
	for _, src := range []string{"127.0.0.2", "127.0.0.3"} {
		for i := 0; i < 4; i++ {
			open(src)
		}
	}
	waitOpen(t, s, 12)
	if c := open("127.0.0.4"); !closedByServer(c, 300*time.Millisecond) {
		t.Fatal("a connection beyond the ceiling (max 12) was kept")
	}
	// Every one of them is idle: all are closed after the idle timeout.
	waitOpen(t, s, 0)
	for _, c := range idle[:4] {
		if !closedByServer(c, time.Second) {
			t.Fatal("an idle connection was kept past the idle timeout")
		}
	}
	// A connection that sent a request stays.
	c, err := dialFrom("", s.sip)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if line, err := register(c, "TCP"); err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("REGISTER: %q, %v", line, err)
	}
	if closedByServer(c, 1500*time.Millisecond) {
		t.Fatal("a connection that sent a request was closed as idle")
	}
	if !strings.Contains(s.log.String(), "connection refused") {
		t.Fatalf("refused connections not logged:\n%s", s.log)
	}
}

func waitOpen(t *testing.T, s *testServer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.guard.open() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", s.guard.open(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A TLS connection that never completes its handshake is closed after the
// handshake timeout; garbage instead of a ClientHello costs one log line,
// not one per connection; a real client is served meanwhile.
func TestTLSHandshakeTimeout(t *testing.T) {
	s := startTestServer(t, Config{Conns: ConnLimits{HandshakeTimeout: 300 * time.Millisecond, IdleTimeout: time.Minute}})
	silent, err := dialFrom("", s.tls)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for i := 0; i < 30; i++ {
		c, err := dialFrom("", s.tls)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		_ = c.Close()
	}
	mustRegister(t, s, "TLS")
	if !closedByServer(silent, 3*time.Second) {
		t.Fatal("a connection without a TLS handshake was kept past the handshake timeout")
	}
	if n := strings.Count(s.log.String(), "TLS handshake failed"); n > 1 {
		t.Fatalf("%d log lines for 30 bad handshakes from one source, want at most 1", n)
	}
}

const exhaustionChildEnv = "SIPSERVER_EXHAUSTION_CHILD"

// Running out of file descriptors (EMFILE) does not stop the TCP and TLS
// listeners: once the connections that used them up are gone, a REGISTER
// over TCP and over TLS succeeds. The exhaustion runs in a child process
// whose open-file limit is lowered to a few hundred, with the connection
// ceiling set above it, so that accept itself fails.
func TestDescriptorExhaustionAcceptSurvives(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDescriptorExhaustionChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), exhaustionChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDescriptorExhaustionChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestDescriptorExhaustionChild(t *testing.T) {
	if os.Getenv(exhaustionChildEnv) == "" {
		t.Skip("run by TestDescriptorExhaustionAcceptSurvives")
	}
	s := startTestServer(t, Config{Conns: ConnLimits{Max: 1 << 20, PerSource: 1 << 20, IdleTimeout: time.Minute}})
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = 256
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var attackers []net.Conn
	for i := 0; i < 2000; i++ { // bounded: the limit ends it long before
		addr := s.sip
		if i%2 == 1 {
			addr = s.tls
		}
		c, err := dialFrom("", addr)
		if err != nil {
			break // this process is out of descriptors too
		}
		attackers = append(attackers, c)
	}
	// The server's accept loops meet EMFILE while the attackers stay.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(s.log.String(), "accepting a connection failed") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range attackers {
		_ = c.Close()
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	mustRegister(t, s, "TCP")
	mustRegister(t, s, "TLS")
	if logs := s.log.String(); !strings.Contains(logs, "accepting a connection failed") {
		t.Fatalf("%d attackers never exhausted the descriptors:\n%s", len(attackers), logs)
	}
	t.Logf("%d attacker connections; then REGISTER over TCP and TLS succeeded", len(attackers))
}

// addrConn is one end of a pipe that says it comes from remote.
type addrConn struct {
	net.Conn
	remote net.Addr
}

func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// The per-source cap counts an IPv6 /64 as one source: an attacker who
// opens each connection from a new address of its prefix is capped all
// the same; another /64 is not.
func TestConnectionCapCountsIPv6Per64(t *testing.T) {
	g := newConnGuard(ConnLimits{PerSource: 3}, slog.New(slog.DiscardHandler), ratelog.New(time.Minute))
	from := func(ip string) *guardConn {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
		return g.admit("tcp", addrConn{Conn: a, remote: &net.TCPAddr{IP: net.ParseIP(ip), Port: 5060}}, nil)
	}
	for i := 1; i <= 3; i++ {
		if from(fmt.Sprintf("2001:db8:1:2::%x", i)) == nil {
			t.Fatalf("connection %d of the /64 refused", i)
		}
	}
	if from("2001:db8:1:2:ffff::1") != nil {
		t.Fatal("a fourth connection from a fresh address of the same /64 was admitted (per_source 3)")
	}
	if from("2001:db8:1:3::1") == nil {
		t.Fatal("a connection from another /64 was refused")
	}
	if g.open() != 4 {
		t.Fatalf("%d open, want 4", g.open())
	}
}
