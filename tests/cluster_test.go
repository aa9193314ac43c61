package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store/pgtest"
	"github.com/softswitch/softswitch/deploy/kamailio/kamtest"
)

// The reference deployment of deploy/kamailio/ (issue 19): PostgreSQL,
// Kamailio at the edge (127.0.0.10) and two softswitch nodes behind it
// (two processes on their own ports) sharing the database, all in the tests'
// namespace — what an operator runs on three machines.

const (
	edgeIP = "127.0.0.10"
	// kamailioProbe is the dispatcher's OPTIONS interval (ds_ping_interval
	// in deploy/kamailio/kamailio.cfg): a dead node is skipped within it.
	kamailioProbe = time.Second
)

// nodeIPs are the nodes' addresses, SIP and media (a node's Contact is
// its media address): each node its own, as on two machines, added to the
// namespace's loopback by TestMain (nodeAddrs).
var nodeIPs = [2]string{"198.18.0.11", "198.18.0.12"}

// nodeAddrs is the shell (after testHostIP's) that adds nodeIPs to lo,
// with testHostIP as the source the kernel gives packets sent to them from
// a socket bound to no particular address. On one loopback every address is
// local, and the kernel's source for a packet to a local address is that
// address itself: baresip, whose RTP sockets are bound to 0.0.0.0, sent
// to a node at 198.18.0.11 from 198.18.0.11, not from the testHostIP its
// SDP names; the node's strict-source latching rightly refused that
// stranger, so it had nothing to relay and neither phone heard anything.
// (To a node at 127.0.0.11 the source was 127.0.0.1: the same.) On real
// machines a phone's packets leave from its own address. baresip still
// takes testHostIP as its own: the first address added to lo after 127.0.0.1.
func nodeAddrs() string {
	var b strings.Builder
	for _, ip := range nodeIPs {
		fmt.Fprintf(&b, " && ip addr add %s/32 dev lo && ip route replace local %s dev lo table local proto kernel scope host src %s", ip, ip, testHostIP)
	}
	return b.String()
}

// clusterUsers are the test users and 1003, a phone that registers once.
var clusterUsers = map[string]string{"1001": testUsers["1001"], "1002": testUsers["1002"], "1003": "pw-1003-secret"}

type cluster struct {
	t     *testing.T
	dsn   string
	nodes [2]*server
	data  [2]string
	cfg   [2]string
	sip   [2]string // each node's SIP UDP address
	edge  *kamtest.Edge
	// wssPort is Kamailio's WSS port on edgeIP.
	wssPort int
}

// startCluster starts PostgreSQL, the two nodes and Kamailio, with the
// test users added once, through the CLI, to the shared database.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	pg, err := pgtest.Start(t.Context())
	if err != nil {
		t.Fatalf("postgres: %v (run make deps)", err)
	}
	t.Cleanup(func() { _ = pg.Stop() })
	dsn, err := pg.NewDatabase(t.Context(), "cluster")
	if err != nil {
		t.Fatal(err)
	}
	// Kamailio's WSS port is chosen first: the nodes' pages name it.
	c := &cluster{t: t, dsn: dsn, wssPort: freeTCPPortOn(t, edgeIP)}
	runCLI(t, "init", "--data", t.TempDir(), "--db", dsn)
	for ext, pw := range clusterUsers {
		runCLI(t, "user", "add", ext, "--password", pw, "--db", dsn)
	}
	for i := range c.nodes {
		c.data[i] = t.TempDir()
		c.cfg[i] = filepath.Join(c.data[i], "node.yaml")
		yaml := fmt.Sprintf("node: n%d\ndatabase:\n  driver: postgres\n  dsn: %q\nproxies: [%s]\nweb_ws_url: wss://%s:%d\n",
			i+1, dsn, edgeIP, edgeIP, c.wssPort)
		if err := os.WriteFile(c.cfg[i], []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		c.startNode(i, nodeIPs[i]+":0")
	}
	c.edge, err = kamtest.Start(t.Context(), kamtest.Config{CfgFile: "../deploy/kamailio/kamailio.cfg", Dir: t.TempDir(),
		IP: edgeIP, UDPPort: freePortOn(t, "udp", edgeIP), WSSPort: c.wssPort, Nodes: c.sip[:],
		Cert: filepath.Join(c.data[0], "tls-cert.pem"), Key: filepath.Join(c.data[0], "tls-key.pem")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.edge.Stop()
		if t.Failed() || os.Getenv("SOFTSWITCH_TEST_LOGS") != "" {
			t.Logf("kamailio log:\n%s", c.edge.Log())
		}
	})
	return c
}

// startNode starts node i with its SIP on sip (its media on its own address).
func (c *cluster) startNode(i int, sip string) {
	c.nodes[i] = startServer(c.t, c.data[i], "--config", c.cfg[i], "--sip", sip, "--media-ip", nodeIPs[i])
	c.sip[i] = c.nodes[i].addr("udp")
}

// edgeServer stands for Kamailio where a helper wants a server: phones
// register and call through it.
func (c *cluster) edgeServer() *server {
	return &server{t: c.t, addrs: map[string]string{"udp": c.edge.UDP}}
}

// clusterCDR is what `cdr list --format json` tells of a call.
type clusterCDR struct {
	CallID string `json:"call_id"`
	Caller string `json:"caller"`
	Target string `json:"target"`
	State  string `json:"state"`
	Cause  string `json:"cause"`
	Node   string `json:"node"`
	CodecA string `json:"codec_a"`
	CodecB string `json:"codec_b"`
}

func (c *cluster) cdrs(open bool) []clusterCDR {
	c.t.Helper()
	args := []string{"cdr", "list", "--format", "json", "--db", c.dsn}
	if open {
		args = append(args, "--open")
	}
	var out []clusterCDR
	if err := json.Unmarshal([]byte(runCLI(c.t, args...)), &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// nextCDR waits for a finished call's CDR beyond the first before, and
// returns the last one.
func (c *cluster) nextCDR(before int) clusterCDR {
	c.t.Helper()
	var cdr clusterCDR
	waitFor(c.t, 10*time.Second, "the call's CDR", func() bool {
		all := c.cdrs(false)
		if len(all) <= before {
			return false
		}
		cdr = all[len(all)-1]
		return true
	})
	return cdr
}

// registeredAt tells whether ext has a live binding whose contact names port.
func (c *cluster) registeredAt(ext string, port int) bool {
	out := runCLI(c.t, "user", "list", "--db", c.dsn)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == ext && strings.Contains(line, ":"+strconv.Itoa(port)) {
			return true
		}
	}
	return false
}

// phoneCall makes one call between two baresip phones registered through
// Kamailio and checks audio both ways; it returns the call's CDR.
func (c *cluster) phoneCall(caller, callee string) clusterCDR {
	c.t.Helper()
	b := c.startCallee(callee, 10*time.Second)
	return c.callTo(caller, callee, b, nil)
}

// startCallee starts a phone that answers, registered through Kamailio.
func (c *cluster) startCallee(ext string, runFor time.Duration) *baresip {
	t := c.t
	t.Helper()
	b := startBaresip(t, c.edgeServer(), baresipOpts{ext: ext, password: clusterUsers[ext], tone: 440, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: runFor})
	waitFor(t, 10*time.Second, ext+" registered through the edge", func() bool { return c.registeredAt(ext, baresipPort(t, b)) })
	return b
}

// callTo has a new phone caller call callee's phone b, and checks audio
// both ways once both have ended (stop, when set, ends b).
func (c *cluster) callTo(caller, callee string, b *baresip, stop func()) clusterCDR {
	t := c.t
	t.Helper()
	before := len(c.cdrs(false))
	a := startBaresip(t, c.edgeServer(), baresipOpts{ext: caller, password: clusterUsers[caller], tone: 1000, toneFor: 4 * time.Second,
		codecs: "PCMU/8000/1", dial: callee, runFor: 7 * time.Second})
	a.wait(t, 30*time.Second)
	cdr := c.nextCDR(before)
	if stop != nil {
		stop()
	}
	b.wait(t, 30*time.Second)
	assertHeardTone(t, caller+" (caller)", a.heard(t), 440)
	assertHeardTone(t, callee+" (callee)", b.heard(t), 1000)
	if cdr.Cause != "normal" || cdr.Target != "user/"+callee || cdr.Node == "" {
		t.Fatalf("CDR of %s -> %s: %+v; want answered, normal, with its node", caller, callee, cdr)
	}
	return cdr
}

// baresipPort is the SIP port a baresip listens on (its config).
func baresipPort(t *testing.T, b *baresip) int {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(b.dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`sip_listen \S+:(\d+)`).FindSubmatch(cfg)
	if m == nil {
		t.Fatal("no sip_listen in baresip's config")
	}
	p, _ := strconv.Atoi(string(m[1]))
	return p
}

// Phones registered through Kamailio call each other in both directions;
// the dispatcher spreads the calls over both nodes (the CDR node column
// shows both), and every call has audio both ways.
func TestClusterPhonesBothNodes(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	seen := map[string]int{}
	pairs := [][2]string{{"1001", "1002"}, {"1002", "1001"}}
	// The dispatcher hashes the Call-ID: keep calling (bounded) until both
	// nodes have taken calls, at least four calls.
	for i := 0; i < 10 && (i < 4 || len(seen) < 2); i++ {
		p := pairs[i%2]
		cdr := c.phoneCall(p[0], p[1])
		seen[cdr.Node]++
		t.Logf("call %d: %s -> %s on node %s", i+1, p[0], p[1], cdr.Node)
	}
	if seen["n1"] == 0 || seen["n2"] == 0 {
		t.Fatalf("calls by node: %v; want both nodes", seen)
	}
}

// kill -9 one node: new calls go to the survivor within the probing
// interval, registrations are not lost, and the call the node was
// handling is in the CDRs, interrupted, once it comes back.
func TestClusterNodeKilled(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	edge := c.edgeServer()
	// A phone registered before the kill, through whichever node.
	// It runs long enough for the calls below on a loaded machine (it is
	// ended by the test; its -t ending mid-call cut the last call short).
	kept := c.startCallee("1003", 150*time.Second)
	// A call in progress, on whichever node the dispatcher chose.
	b := startBaresip(t, edge, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 40 * time.Second})
	waitFor(t, 10*time.Second, "1002 registered", func() bool { return c.registeredAt("1002", baresipPort(t, b)) })
	a := startBaresip(t, edge, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", dial: "1002", runFor: 40 * time.Second})
	var up clusterCDR
	waitFor(t, 15*time.Second, "the call up", func() bool {
		for _, r := range c.cdrs(true) {
			if r.State == "up" {
				up = r
				return true
			}
		}
		return false
	})
	dead := map[string]int{"n1": 0, "n2": 1}[up.Node]
	survivor := 1 - dead
	t.Logf("call %s up on node %s: killing it", up.CallID, up.Node)
	if err := c.nodes[dead].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.nodes[dead].exited
	_ = a.cmd.Process.Kill()
	_ = b.cmd.Process.Kill()
	time.Sleep(2*kamailioProbe + 500*time.Millisecond)

	// New calls, both directions: all on the survivor, with audio.
	want := fmt.Sprintf("n%d", survivor+1)
	for i, p := range [][2]string{{"1001", "1002"}, {"1002", "1001"}, {"1001", "1002"}} {
		cdr := c.phoneCall(p[0], p[1])
		if cdr.Node != want {
			t.Fatalf("call %d after the kill on node %s, want the survivor %s", i+1, cdr.Node, want)
		}
	}
	// The registration from before the kill was not lost: 1003 is called
	// without having registered again.
	cdr := c.callTo("1001", "1003", kept, func() { _ = kept.cmd.Process.Signal(syscall.SIGTERM) })
	if cdr.Node != want {
		t.Fatalf("call to 1003 after the kill on node %s, want the survivor %s", cdr.Node, want)
	}

	// The killed node comes back (same address) and closes its call.
	sip := c.sip[dead]
	c.startNode(dead, sip)
	waitFor(t, 15*time.Second, "the interrupted call's CDR", func() bool {
		for _, r := range c.cdrs(false) {
			if r.CallID == up.CallID {
				return r.State == "interrupted" && r.Node == up.Node
			}
		}
		return false
	})
}

// A browser registered over WSS to Kamailio (the node's page names the
// edge's WebSocket) and a desk phone registered over UDP call each other
// in both directions, several times: calls land on both nodes, and every
// call has audio both ways (Opus in the browser, PCMU at the phone).
func TestClusterBrowserAndPhone(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := openPage(t, "https://"+c.nodes[0].addr("https")+"/")
	p.eval(fmt.Sprintf(`phone.login("1001", %q)`, clusterUsers["1001"]), nil)
	p.waitTrue(`phone.registered()`, 15*time.Second)
	if !strings.Contains(runCLI(t, "user", "list", "--db", c.dsn), "via ws") {
		t.Fatalf("the browser's binding is not a WebSocket one behind the edge:\n%s", runCLI(t, "user", "list", "--db", c.dsn))
	}
	seen := map[string]int{}
	for i := 0; i < 8 && (i < 4 || len(seen) < 2); i++ {
		browserCalls := i%2 == 0
		before := len(c.cdrs(false))
		// The caller sends 1000 Hz, the callee 440 Hz.
		var desk *baresip
		if browserCalls {
			desk = c.startCallee("1002", 12*time.Second)
			p.eval(`phone.setTone(1000); phone.call("1002")`, nil)
		} else {
			p.eval(`phone.setTone(440)`, nil)
			desk = startBaresip(t, c.edgeServer(), baresipOpts{ext: "1002", password: clusterUsers["1002"], tone: 1000,
				toneFor: 30 * time.Second, codecs: "PCMU/8000/1", dial: "1001", runFor: 12 * time.Second})
			p.waitTrue(`phone.incoming()`, 15*time.Second)
			p.eval(`phone.answer()`, nil)
		}
		p.waitTrue(`phone.inCall()`, 15*time.Second)
		time.Sleep(time.Second)
		browserHears, deskHears := 1000.0, 440.0
		if browserCalls {
			browserHears, deskHears = 440, 1000
		}
		heardTone(t, "browser", p.listen(3*time.Second), browserHears)
		p.eval(`phone.hangup()`, nil)
		desk.wait(t, 30*time.Second)
		assertHeardTone(t, "desk phone", desk.heard(t), deskHears)
		cdr := c.nextCDR(before)
		codecs := cdr.CodecA + "/" + cdr.CodecB
		if cdr.Node == "" || (codecs != "opus/PCMU" && codecs != "PCMU/opus") {
			t.Fatalf("call %d: CDR %+v; want its node, opus and PCMU", i+1, cdr)
		}
		seen[cdr.Node]++
		t.Logf("call %d (browser calls: %v) on node %s", i+1, browserCalls, cdr.Node)
		p.waitTrue(`!phone.inCall()`, 10*time.Second)
	}
	if seen["n1"] == 0 || seen["n2"] == 0 {
		t.Fatalf("calls by node: %v; want both nodes", seen)
	}
}

// The self-test page of a node behind Kamailio tests where the node's
// phone registers (web_ws_url, the edge's WSS), not the node's own /ws:
// it logs in through the edge and its echo call is taken by a node.
func TestClusterSelfTest(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	p := openPage(t, "https://"+c.nodes[1].addr("https")+"/selftest")
	before := len(c.cdrs(false))
	checks := runSelfTest(t, p, clusterUsers["1001"], false)
	for _, id := range []string{"wss", "mic", "speaker", "udp", "echo"} {
		if checks[id].State != "ok" {
			t.Errorf("%s: %s %q, want ok", id, checks[id].State, checks[id].Verdict)
		}
	}
	edgeWS := fmt.Sprintf("wss://%s:%d", edgeIP, c.wssPort)
	if v := checks["wss"].Verdict; !strings.Contains(v, "Connected securely to "+edgeWS+" ") || !strings.Contains(v, "logged in as 1001") {
		t.Errorf("connection verdict %q: want the edge's %s", v, edgeWS)
	}
	cdr := c.nextCDR(before)
	if cdr.Caller != "1001" || cdr.Node == "" || !strings.Contains(runCLI(t, "cdr", "list", "--db", c.dsn), "07010002001") {
		t.Fatalf("echo call CDR %+v: want 1001's call to 07010002001 taken by a node", cdr)
	}
	t.Logf("the echo call was taken by node %s", cdr.Node)
}
