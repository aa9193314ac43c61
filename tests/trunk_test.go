package tests

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

var trunkDialplan, _ = filepath.Abs("testdata/trunks.lua")

// The carriers of these tests live on loopback addresses of their own, so
// that identification by address means something: phones and the
// softswitch are on 127.0.0.1 (or testHostIP), carriers on these.
const (
	carrierIP = "127.0.0.2"
	otherIP   = "127.0.0.3"
)

// trunkYAML is one trunks: entry.
func trunkYAML(name, host string, port int, extra string) string {
	s := fmt.Sprintf("  - name: %s\n    host: %s\n    port: %d\n", name, host, port)
	for _, l := range strings.Split(strings.TrimSpace(extra), "\n") {
		if l != "" {
			s += "    " + strings.TrimSpace(l) + "\n"
		}
	}
	return s
}

// source is the address RTP arrived from (symmetric RTP: where to send).
func (p *rtpPeer) source() *net.UDPAddr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.remote
}

// udpSink is a UDP socket that records every datagram: a carrier that
// never answers, to prove what was (not) sent to it.
type udpSink struct {
	conn *net.UDPConn
	got  chan string
}

func newUDPSink(t *testing.T, ip string) *udpSink {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	s := &udpSink{conn: c, got: make(chan string, 1000)}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			select {
			case s.got <- string(buf[:n]):
			default:
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return s
}

func (s *udpSink) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// methods returns the methods of the requests received so far.
func (s *udpSink) methods() []string {
	var out []string
	for {
		select {
		case m := <-s.got:
			out = append(out, strings.SplitN(m, " ", 2)[0])
		default:
			return out
		}
	}
}

// cliResult runs the softswitch CLI and returns its output and error.
func cliResult(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	return string(out), err
}

func trunkStatus(t *testing.T, s *server) string {
	t.Helper()
	return runCLI(t, "trunk", "status", "--data", s.data)
}

// statusLine returns the trunk status line of one trunk.
func statusLine(t *testing.T, s *server, name string) string {
	t.Helper()
	for _, l := range strings.Split(trunkStatus(t, s), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return l
		}
	}
	return ""
}

// A carrier's INVITE is recognised by its source address and routed by its
// DID to an extension, with audio both ways. The same INVITE from another
// address is challenged (407, as anyone is) and nothing is sent anywhere; an anonymous
// caller whose dialplan routes to the trunk is refused too (toll fraud).
func TestTrunkInboundByAddress(t *testing.T) {
	t.Parallel()
	trunkSock := newUDPSink(t, carrierIP)
	cfg := writeConfig(t, "anonymous_destinations: [\"0999\"]\ntrunks:\n"+
		trunkYAML("carrier", carrierIP, trunkSock.port(), "options_interval: -1\nfrom_addresses: [\""+carrierIP+"/32\"]"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	ext := device(t, s, "1001")
	carrierMedia := newRTPPeer(t)

	carrier := dialSIPFrom(t, s, "udp", carrierIP)
	inv := crossCall(t, carrier, "+15551234567", "5550100", ext)
	if u := inv.From().Address.User; u != "+15551234567" {
		t.Errorf("the extension saw caller %q, want the carrier's +15551234567", u)
	}

	// The same INVITE from an address that is no trunk's.
	stranger := dialSIPFrom(t, s, "udp", otherIP)
	if _, res := stranger.invite("+15551234567", "", "5550100", carrierMedia.port()); res.StatusCode != 407 {
		t.Fatalf("INVITE from an unknown address answered %d, want a 407 challenge", res.StatusCode)
	}
	// Toll fraud: an allowed anonymous destination routed to a carrier.
	anon := dialSIP(t, s, "udp")
	if _, res := anon.invite("+15550000000", "", "0999", carrierMedia.port()); res.StatusCode != 403 {
		t.Fatalf("anonymous call routed to a trunk answered %d, want 403", res.StatusCode)
	}
	if req := ext.recvRequest(time.Second); req != nil {
		t.Fatalf("the extension got %s from a refused call", req.Method)
	}
	if m := trunkSock.methods(); len(m) > 0 {
		t.Fatalf("the carrier was sent %v by refused calls", m)
	}
	logs := s.logs()
	for _, want := range []string{`msg="call refused: not from an extension or a trunk" source=` + otherIP + " count=1",
		`msg="call to an external target refused: the caller is not authenticated" source=127.0.0.1 count=1`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	waitFor(t, 10*time.Second, "CDR of the carrier's call", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "5550100")
	})
}

// An extension (baresip) calls an external number through a carrier (sipp)
// that challenges the INVITE and verifies the credentials; the call
// completes with audio measured both ways, the caller presented as the
// dialplan set it, and lean SDP on the trunk.
func TestTrunkOutboundChallenged(t *testing.T) {
	t.Parallel()
	sippPort := freePortOn(t, "udp", carrierIP)
	carrierMedia := newRTPPeer(t)
	cfg := writeConfig(t, "trunks:\n"+trunkYAML("carrier", carrierIP, sippPort,
		"username: acct\npassword: secret\noptions_interval: -1"))
	s := startPhoneServer(t, "--config", cfg, "--dialplan", trunkDialplan)
	type sippResult struct {
		code int
		logs string
	}
	done := make(chan sippResult, 1)
	go func() {
		code, logs := sippRun{scenario: "carrier_auth.xml", transport: "udp", ip: carrierIP, port: sippPort, calls: 1,
			keys: map[string]string{"rtpport": strconv.Itoa(carrierMedia.port()), "mediaip": "127.0.0.1"}}.run(t, "")
		done <- sippResult{code, logs}
	}()
	waitFor(t, 10*time.Second, "sipp listening", func() bool { // its port taken
		c, err := net.ListenPacket("udp", net.JoinHostPort(carrierIP, strconv.Itoa(sippPort)))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	phone := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 440, toneFor: 6 * time.Second,
		codecs: "PCMU/8000/1", dial: "04930555", runFor: 10 * time.Second})
	carrierMedia.waitPackets(t, 50, 15*time.Second)
	stop := make(chan struct{})
	go carrierMedia.sendTone(carrierMedia.source(), 1000, 8*time.Second, stop)
	phone.wait(t, 30*time.Second)
	close(stop)
	var r sippResult
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("sipp carrier did not finish")
	}
	if r.code != 0 {
		t.Fatalf("sipp carrier exited %d:\n%s", r.code, r.logs)
	}
	assertHeardTone(t, "phone", phone.heard(t), 1000)
	pcm, _ := carrierMedia.received()
	assertHeardTone(t, "carrier", promptOf(pcm[len(pcm)/4:]), 440)
	// What the carrier received: the dialplan's caller, asserted; plain
	// G.711 SDP without WebRTC attributes, in one datagram.
	invite := r.logs[strings.LastIndex(r.logs, "INVITE sip:4930555@"):]
	invite = invite[:strings.Index(invite, "a=sendrecv")]
	for _, want := range []string{"From: \"Ext 1001\" <sip:49301001@" + carrierIP + ">",
		"P-Asserted-Identity: \"Ext 1001\" <sip:49301001@" + carrierIP + ">", "Authorization: Digest", "RTP/AVP 0 8 101"} {
		if !strings.Contains(invite, want) {
			t.Errorf("carrier's INVITE lacks %q:\n%s", want, invite)
		}
	}
	for _, bad := range []string{"SAVPF", "fingerprint", "ice-ufrag"} {
		if strings.Contains(invite, bad) {
			t.Errorf("trunk SDP carries %s:\n%s", bad, invite)
		}
	}
	if len(invite) > 1300 {
		t.Errorf("carrier's INVITE is %d bytes: too large for one datagram", len(invite))
	}
	waitFor(t, 10*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "trunk/carrier/4930555")
	})
}

// The primary trunk stops answering OPTIONS: it is marked down and the
// dialplan's fallback trunk takes the call; the fallback carrier's 486 is
// the caller's answer and the CDR's cause.
func TestTrunkFallbackWhenDown(t *testing.T) {
	t.Parallel()
	primary := newUDPSink(t, carrierIP) // never answers
	backupPort := freePortOn(t, "udp", otherIP)
	cfg := writeConfig(t, "trunks:\n"+trunkYAML("primary", carrierIP, primary.port(), "options_interval: 1")+
		trunkYAML("backup", otherIP, backupPort, "options_interval: -1"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	backup := dialSIPFrom(t, s, "udp", net.JoinHostPort(otherIP, strconv.Itoa(backupPort)))
	waitFor(t, 15*time.Second, "primary marked down", func() bool {
		return strings.Contains(statusLine(t, s, "primary"), "down for")
	})
	if l := statusLine(t, s, "primary"); !strings.Contains(l, "no answer to OPTIONS") {
		t.Errorf("status line %q lacks the reason", l)
	}
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "0123456", rtp.port())
	inv := backup.mustRecvRequest("INVITE", 10*time.Second)
	if !strings.HasPrefix(inv.Recipient.String(), "sip:123456@"+otherIP) {
		t.Errorf("backup carrier got Request-URI %s", inv.Recipient.String())
	}
	backup.respond(inv, 486, "Busy Here", "")
	res := cl.next()
	if res.StatusCode != 486 {
		t.Fatalf("caller got %d, want the carrier's 486", res.StatusCode)
	}
	cl.ack(res)
	for _, m := range primary.methods() {
		if m != "OPTIONS" {
			t.Fatalf("the down primary trunk was sent %s", m)
		}
	}
	waitFor(t, 10*time.Second, "CDR with cause busy", func() bool {
		cdr := runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(cdr, "trunk/backup/123456") && strings.Contains(cdr, "busy")
	})
}

// A carrier that stops answering: the INVITE goes unanswered, the caller
// gets 480 when the dialplan's ring time ends, and the CDR says no-answer.
func TestTrunkCarrierSilent(t *testing.T) {
	t.Parallel()
	silent := newUDPSink(t, carrierIP)
	cfg := writeConfig(t, "trunks:\n"+trunkYAML("carrier", carrierIP, silent.port(), "options_interval: -1"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "00555", rtp.port()) // rings 3 s
	res := cl.finalResponse()
	if res.StatusCode != 480 {
		t.Fatalf("caller got %d, want 480 when the carrier never answers", res.StatusCode)
	}
	cl.ack(res)
	if m := silent.methods(); len(m) == 0 || m[0] != "INVITE" {
		t.Fatalf("the carrier got %v, want the INVITE (and its retransmissions)", m)
	}
	waitFor(t, 10*time.Second, "CDR with cause no-answer", func() bool {
		cdr := runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(cdr, "trunk/carrier/0555") && strings.Contains(cdr, "no-answer")
	})
}

// A browser (Opus) calls an external number: PCMU on the trunk leg, the
// carrier's early media heard before the answer, audio measured both ways.
func TestBrowserCallsThroughTrunk(t *testing.T) {
	t.Parallel()
	carrierPort := freePortOn(t, "udp", carrierIP)
	cfg := writeConfig(t, "trunks:\n"+trunkYAML("carrier", carrierIP, carrierPort, "options_interval: -1\ncodecs: [PCMU]"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	carrier := dialSIPFrom(t, s, "udp", net.JoinHostPort(carrierIP, strconv.Itoa(carrierPort)))
	carrierMedia := newRTPPeer(t)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440); phone.call("04930555")`, nil)
	inv := carrier.mustRecvRequest("INVITE", 10*time.Second)
	sdp := string(inv.Body())
	if strings.Contains(sdp, "SAVPF") || strings.Contains(sdp, "fingerprint") || !strings.Contains(sdp, "RTP/AVP 0 101") {
		t.Fatalf("trunk leg SDP is not plain PCMU:\n%s", sdp)
	}
	// Early media first: the carrier's announcement reaches the browser
	// before the answer.
	carrier.respond(inv, 183, "Session Progress", offer(carrierMedia.port()))
	stop := make(chan struct{})
	defer close(stop)
	go carrierMedia.sendTone(mediaAddr(t, inv.Body()), 1000, 25*time.Second, stop)
	time.Sleep(1500 * time.Millisecond)
	heardTone(t, "browser before the answer", p.listen(3*time.Second), 1000)
	carrier.respond(inv, 200, "OK", offer(carrierMedia.port()))
	carrier.mustRecvRequest("ACK", 5*time.Second)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	time.Sleep(time.Second)
	heardTone(t, "browser", p.listen(4*time.Second), 1000)
	var st callStats
	p.eval(`phone.stats()`, &st)
	if st.Codec != "audio/opus" {
		t.Fatalf("browser leg codec %q, want opus", st.Codec)
	}
	pcm, _ := carrierMedia.received()
	assertHeardTone(t, "carrier", promptOf(pcm[len(pcm)/2:]), 440)
	p.eval(`phone.hangup()`, nil)
	bye := carrier.mustRecvRequest("BYE", 10*time.Second)
	carrier.respond(bye, 200, "OK", "")
	waitFor(t, 10*time.Second, "CDR", func() bool {
		cdr := runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(cdr, "trunk/carrier/4930555") && strings.Contains(cdr, "opus/PCMU")
	})
}

// Trunks change without a restart: `softswitch reload`, an edit of the
// file and SIGHUP all apply, a broken file changes nothing, and a call in progress
// goes on.
func TestTrunkReload(t *testing.T) {
	t.Parallel()
	a, b := newUDPSink(t, carrierIP), newUDPSink(t, otherIP)
	cfgText := func(trunks ...string) string { return "trunks:\n" + strings.Join(trunks, "") }
	ta := trunkYAML("alpha", carrierIP, a.port(), "options_interval: -1")
	tb := trunkYAML("beta", otherIP, b.port(), "options_interval: -1")
	cfg := writeConfig(t, cfgText(ta))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	if st := trunkStatus(t, s); !strings.Contains(st, "alpha") || strings.Contains(st, "beta") {
		t.Fatalf("status at start:\n%s", st)
	}
	rtp := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "07010002000", rtp.port())
	res := cl.finalResponse()
	if res.StatusCode != 200 {
		t.Fatalf("test call answered %d", res.StatusCode)
	}
	cl.ack(res)
	rtp.waitPackets(t, 20, 5*time.Second)

	write := func(body string) {
		t.Helper()
		// A new modification time even on coarse file systems.
		time.Sleep(20 * time.Millisecond)
		if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(cfgText(ta, tb))
	out := runCLI(t, "reload", "--data", s.data)
	if !strings.Contains(out, "1 added") || !strings.Contains(out, "added: beta") {
		t.Fatalf("reload said:\n%s", out)
	}
	if st := trunkStatus(t, s); !strings.Contains(st, "alpha") || !strings.Contains(st, "beta") {
		t.Fatalf("status after reload:\n%s", st)
	}

	write(cfgText(ta, tb) + "    transport: sctp\n")
	if out, err := cliResult("reload", "--data", s.data); err == nil || !strings.Contains(out, "reload refused") || !strings.Contains(out, "sctp") {
		t.Fatalf("a broken file was not refused: %v\n%s", err, out)
	}
	if st := trunkStatus(t, s); !strings.Contains(st, "alpha") || !strings.Contains(st, "beta") {
		t.Fatalf("a refused reload changed the trunks:\n%s", st)
	}

	// An edit alone is enough: the file is watched.
	write(cfgText(tb))
	waitFor(t, 10*time.Second, "alpha removed by the file watch", func() bool {
		return !strings.Contains(trunkStatus(t, s), "alpha")
	})
	if !strings.Contains(s.logs(), `trigger="file changed"`) {
		t.Error("log does not say the file change triggered the reload")
	}
	// SIGHUP reloads too, as daemons do.
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "reload on SIGHUP", func() bool {
		return strings.Contains(s.logs(), `msg="configuration reloaded" trigger=SIGHUP`)
	})

	// The call went on through all of it.
	_, before := rtp.received()
	rtp.waitPackets(t, before+25, 5*time.Second)
	cl.bye(res)
	if r := c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
		t.Fatalf("BYE after the reloads answered %v", r)
	}
}

// Two softswitches: the first registers to the second as its carrier
// (digest on REGISTER and on INVITE), then calls cross in both directions
// with audio measured both ways. Stopping the first unregisters it.
func TestTrunkToAnotherSoftswitch(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) { trunkToAnotherSoftswitch(t, transport) })
	}
}

func trunkToAnotherSoftswitch(t *testing.T, transport string) {
	carrier := startServer(t, "", "--sip", otherIP+":0", "--media-ip", otherIP)
	runCLI(t, "user", "add", "2000", "--password", "trunk-secret-2000", "--data", carrier.data)
	cfg := writeConfig(t, "trunks:\n"+trunkYAML("carrier", otherIP, portOf(t, carrier.addr(transport)),
		"transport: "+transport+"\nusername: \"2000\"\npassword: trunk-secret-2000\nregister: true\nexpires: 60\noptions_interval: 1"))
	pbx := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	waitFor(t, 15*time.Second, "registered to the carrier", func() bool {
		l := statusLine(t, pbx, "carrier")
		return strings.Contains(l, "registered (expires") && strings.Contains(l, "up for")
	})
	if l := carrier.registrations("2000"); !strings.Contains(l, "via "+transport) {
		t.Fatalf("carrier lists no %s binding for 2000: %s", transport, l)
	}
	pbxPhone, carrierPhone := device(t, pbx, "1001"), device(t, carrier, "1002")

	// Out: 1001 on the PBX dials 0 + 1002, an extension of the carrier.
	crossCall(t, pbxPhone, "1001", "01002", carrierPhone)
	// In: 1002 on the carrier dials 2000, the PBX's account, whose DID the
	// PBX routes to 1001.
	crossCall(t, carrierPhone, "1002", "2000", pbxPhone)
	if !strings.Contains(pbx.logs(), `msg="call from trunk carrier for 2000 from 1002"`) {
		t.Error("the PBX did not see the carrier's call as a trunk call")
	}

	if err := pbx.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("PBX exit: %v", err)
	}
	waitFor(t, 10*time.Second, "unregistered", func() bool {
		return !strings.Contains(carrier.registrations("2000"), "via "+transport)
	})
}

// crossCall: caller (as ext, authenticated when testUsers has a password
// for it) dials dest; callee answers; both hear each other; the caller
// hangs up. It returns the INVITE the callee got.
func crossCall(t *testing.T, caller *sipClient, ext, dest string, callee *sipClient) *sip.Request {
	t.Helper()
	callerMedia, calleeMedia := newRTPPeer(t), newRTPPeer(t)
	cl := caller.startInvite(ext, testUsers[ext], dest, callerMedia.port())
	inv := callee.mustRecvRequest("INVITE", 10*time.Second)
	callee.respond(inv, 200, "OK", offer(calleeMedia.port()))
	res := cl.finalResponse()
	if res.StatusCode != 200 {
		t.Fatalf("%s -> %s answered %d", ext, dest, res.StatusCode)
	}
	cl.ack(res)
	callee.mustRecvRequest("ACK", 5*time.Second)
	stop := make(chan struct{})
	go callerMedia.sendTone(mediaAddr(t, res.Body()), 1000, 10*time.Second, stop)
	go calleeMedia.sendTone(mediaAddr(t, inv.Body()), 440, 10*time.Second, stop)
	callerMedia.waitPackets(t, 100, 8*time.Second)
	calleeMedia.waitPackets(t, 100, 8*time.Second)
	close(stop)
	pcm, _ := calleeMedia.received()
	assertHeardTone(t, "callee of "+dest, promptOf(pcm[len(pcm)/3:]), 1000)
	pcm, _ = callerMedia.received()
	assertHeardTone(t, "caller of "+dest, promptOf(pcm[len(pcm)/3:]), 440)
	cl.bye(res)
	bye := callee.mustRecvRequest("BYE", 10*time.Second)
	callee.respond(bye, 200, "OK", "")
	return inv
}

func portOf(t *testing.T, hostport string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// opusSDP is an Opus-only SDP (RFC 7587, with telephone-event/48000) for a
// media port on loopback: a carrier that takes Opus.
func opusSDP(port int) string {
	return fmt.Sprintf("v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d 110\r\na=rtpmap:%[2]d opus/48000/2\r\na=fmtp:%[2]d useinbandfec=1\r\n"+
		"a=rtpmap:110 telephone-event/48000\r\na=fmtp:110 0-16\r\n", port, opusPT)
}

// A trunk configured with codecs [opus, PCMU]: an extension (PCMU) dials
// out, the offer the carrier gets lists Opus first and fits a datagram,
// the carrier answers Opus only; audio crosses both ways transcoded
// (PCMU <-> Opus at 8 kHz) and the CDR names both codecs.
func TestTrunkOpus(t *testing.T) {
	t.Parallel()
	carrierPort := freePortOn(t, "udp", carrierIP)
	cfg := writeConfig(t, "trunks:\n"+trunkYAML("carrier", carrierIP, carrierPort, "options_interval: -1\ncodecs: [Opus, PCMU]"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	carrier := dialSIPFrom(t, s, "udp", net.JoinHostPort(carrierIP, strconv.Itoa(carrierPort)))
	extMedia, carrierMedia := newRTPPeer(t), newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "04930555", extMedia.port())
	inv := carrier.mustRecvRequest("INVITE", 10*time.Second)
	sdp := string(inv.Body())
	for _, want := range []string{" RTP/AVP 111 0 101 110\r\n", "a=rtpmap:111 opus/48000/2\r\n",
		"a=fmtp:111 minptime=10;useinbandfec=1\r\n", "a=rtpmap:110 telephone-event/48000\r\n"} {
		if !strings.Contains(sdp, want) {
			t.Errorf("trunk offer lacks %q:\n%s", want, sdp)
		}
	}
	if n := len(inv.String()); n > 1300 {
		t.Errorf("carrier's INVITE is %d bytes: too large for one datagram", n)
	}
	carrier.respond(inv, 200, "OK", opusSDP(carrierMedia.port()))
	res := cl.finalResponse()
	if res.StatusCode != 200 {
		t.Fatalf("call through the Opus trunk answered %d", res.StatusCode)
	}
	cl.ack(res)
	carrier.mustRecvRequest("ACK", 5*time.Second)
	stop := make(chan struct{})
	go extMedia.sendTone(mediaAddr(t, res.Body()), 1000, 10*time.Second, stop)
	go carrierMedia.sendToneAs(opusPT, mediaAddr(t, inv.Body()), 440, 10*time.Second, stop)
	extMedia.waitPackets(t, 100, 8*time.Second)
	carrierMedia.waitPackets(t, 100, 8*time.Second)
	close(stop)
	pcm, _ := carrierMedia.received()
	assertHeardTone(t, "carrier (Opus)", promptOf(pcm[len(pcm)/3:]), 1000)
	pcm, _ = extMedia.received()
	assertHeardTone(t, "extension (PCMU)", promptOf(pcm[len(pcm)/3:]), 440)
	if pts := carrierMedia.payloadTypes(); len(pts) != 1 || pts[opusPT] == 0 {
		t.Errorf("carrier got payload types %v, want Opus (%d) only", pts, opusPT)
	}
	if pts := extMedia.payloadTypes(); len(pts) != 1 || pts[0] == 0 {
		t.Errorf("extension got payload types %v, want PCMU only", pts)
	}
	cl.bye(res)
	bye := carrier.mustRecvRequest("BYE", 10*time.Second)
	carrier.respond(bye, 200, "OK", "")
	waitFor(t, 10*time.Second, "CDR", func() bool {
		cdr := runCLI(t, "cdr", "list", "--data", s.data)
		return strings.Contains(cdr, "trunk/carrier/4930555") && strings.Contains(cdr, "PCMU/opus")
	})
}

// from_addresses may name the transport (and port): the carrier's calls
// from otherIP are its own over TCP only; the same INVITE over UDP is a
// stranger's and is challenged.
func TestTrunkInboundByTransport(t *testing.T) {
	t.Parallel()
	trunkSock := newUDPSink(t, carrierIP)
	cfg := writeConfig(t, "trunks:\n"+
		trunkYAML("carrier", carrierIP, trunkSock.port(), "options_interval: -1\nfrom_addresses: [\"tcp:"+otherIP+"\"]"))
	s := startServer(t, "", "--config", cfg, "--dialplan", trunkDialplan)
	ext := device(t, s, "1001")

	overTCP := dialSIPFrom(t, s, "tcp", otherIP)
	if inv := crossCall(t, overTCP, "+15551234567", "5550100", ext); inv.From().Address.User != "+15551234567" {
		t.Errorf("the extension saw caller %q, want the carrier's +15551234567", inv.From().Address.User)
	}
	overUDP := dialSIPFrom(t, s, "udp", otherIP)
	if _, res := overUDP.invite("+15551234567", "", "5550100", newRTPPeer(t).port()); res.StatusCode != 407 {
		t.Fatalf("INVITE over UDP from a TCP-only carrier address answered %d, want a 407 challenge", res.StatusCode)
	}
}
