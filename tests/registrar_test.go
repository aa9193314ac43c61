package tests

import (
	"github.com/icholy/digest"
	"strings"
	"testing"
	"time"
)

// sipp registers over UDP and TCP with digest auth, is refused with a wrong
// password, and unregisters.
func TestSippRegister(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			target := s.addr(tr)
			port := freePort(t, tr)
			sippRun{scenario: "register.xml", transport: tr, users: [][2]string{{"1001", testUsers["1001"]}},
				keys: map[string]string{"expires": "300"}, port: port}.mustPass(t, target)
			if tr == "udp" {
				if reg := s.registrations("1001"); !strings.Contains(reg, "via udp") {
					t.Fatalf("no udp registration listed: %s", reg)
				}
			} else {
				// sipp closes its TCP connection when it ends: the binding goes with it.
				waitFor(t, 5*time.Second, "tcp binding removed with its connection", func() bool {
					return strings.Contains(s.logs(), `msg="binding removed: connection closed" ext=1001`)
				})
			}
			sippRun{scenario: "register_refused.xml", transport: tr, users: [][2]string{{"1001", "wrong-password"}},
				keys: map[string]string{"expires": "300"}}.mustPass(t, target)
			sippRun{scenario: "register_refused.xml", transport: tr, users: [][2]string{{"9999", "whatever"}},
				keys: map[string]string{"expires": "300"}}.mustPass(t, target)
			sippRun{scenario: "register.xml", transport: tr, users: [][2]string{{"1001", testUsers["1001"]}},
				keys: map[string]string{"expires": "0"}, port: port}.mustPass(t, target)
		})
	}
	waitFor(t, 5*time.Second, "all registrations gone", func() bool {
		return strings.Contains(s.registrations("1001"), " -")
	})
}

// Every transport registers with our own client too: TLS, WS and WSS
// (the browser transports), plus UDP and TCP.
func TestRegisterEveryTransport(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, tr := range []string{"udp", "tcp", "tls", "ws", "wss"} {
		t.Run(tr, func(t *testing.T) {
			c := dialSIP(t, s, tr)
			res := c.login("1002", testUsers["1002"], 600, "")
			contacts := res.GetHeaders("Contact")
			if len(contacts) == 0 || !strings.Contains(contacts[len(contacts)-1].Value(), "expires=600") {
				t.Fatalf("200 does not echo the contact with expires: %v", contacts)
			}
			if reg := s.registrations("1002"); !strings.Contains(reg, "via "+tr+" ") {
				t.Fatalf("no %s registration listed: %s", tr, reg)
			}
		})
	}
}

// A binding made over a WebSocket (or TCP) disappears when the socket closes.
func TestConnectionBoundBindingRemovedOnClose(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, tr := range []string{"ws", "wss", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			c := dialSIP(t, s, tr)
			c.login("1001", testUsers["1001"], 600, "")
			if !strings.Contains(s.registrations("1001"), "via "+tr+" ") {
				t.Fatal("not registered")
			}
			c.conn.Close()
			waitFor(t, 5*time.Second, "binding removed after close", func() bool {
				return !strings.Contains(s.registrations("1001"), "via "+tr+" ")
			})
		})
	}
}

// UDP registrations survive a restart; connection-bound ones do not.
func TestRegistrationsSurviveRestart(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	udp := dialSIP(t, s, "udp")
	udp.login("1001", testUsers["1001"], 600, "")
	ws := dialSIP(t, s, "ws")
	ws.login("1002", testUsers["1002"], 600, "")
	if err := s.stop(sigterm); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.logs())
	}
	s2 := startServer(t, s.data)
	if reg := s2.registrations("1001"); !strings.Contains(reg, "via udp") {
		t.Fatalf("UDP registration lost across restart: %s", reg)
	}
	if reg := s2.registrations("1002"); strings.Contains(reg, "via ws") {
		t.Fatalf("WS registration kept across restart without its socket: %s", reg)
	}
	// The client refreshes with the nonce it had: the new process did not
	// issue it, so it is told stale=true and re-authenticates without asking the user.
	udp.server = s2.addr("udp")
	udp.conn.Close()
	udp2 := dialSIP(t, s2, "udp")
	udp2.lastChal, udp2.nc = udp.lastChal, udp.nc
	res := udp2.mustRegister("1001", testUsers["1001"], 600, "", 401)
	if !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("old nonce after restart not answered stale: %s", res)
	}
	udp2.challenge(res)
	udp2.mustRegister("1001", testUsers["1001"], 600, "", 200)
}

func TestRegistrarRules(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := dialSIP(t, s, "udp")
	c.challenge(c.mustRegister("1001", "", 600, "", 401))

	t.Run("too brief", func(t *testing.T) {
		res := c.mustRegister("1001", testUsers["1001"], 10, "", 423)
		if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
			t.Fatalf("423 without Min-Expires 60: %s", res)
		}
	})
	t.Run("capped", func(t *testing.T) {
		res := c.mustRegister("1001", testUsers["1001"], 999999, "", 200)
		if !strings.Contains(res.GetHeader("Contact").Value(), "expires=3600") {
			t.Fatalf("expiry not capped at 3600: %s", res)
		}
	})
	t.Run("two devices", func(t *testing.T) {
		other := dialSIP(t, s, "udp")
		other.login("1001", testUsers["1001"], 600, "")
		res := c.mustRegister("1001", testUsers["1001"], 600, "", 200)
		if n := len(res.GetHeaders("Contact")); n != 2 {
			t.Fatalf("%d contacts, want 2: %s", n, res)
		}
	})
	t.Run("instance replaces", func(t *testing.T) {
		inst := `;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>";reg-id=1`
		a := dialSIP(t, s, "udp")
		a.login("1002", testUsers["1002"], 600, inst)
		b := dialSIP(t, s, "udp") // same device, new address
		res := b.login("1002", testUsers["1002"], 600, inst)
		if n := len(res.GetHeaders("Contact")); n != 1 {
			t.Fatalf("%d contacts after re-registering the same instance, want 1: %s", n, res)
		}
	})
	t.Run("star unregisters all", func(t *testing.T) {
		res := c.mustRegister("1001", testUsers["1001"], 0, "*", 200)
		if n := len(res.GetHeaders("Contact")); n != 0 {
			t.Fatalf("%d contacts after Contact: *, want 0: %s", n, res)
		}
	})
	t.Run("another user's extension", func(t *testing.T) {
		// Valid credentials of 1002 used to register 1001.
		c2 := dialSIP(t, s, "udp")
		c2.challenge(c2.mustRegister("1001", "", 600, "", 401))
		c2.sendRegisterAs("1001", "1002", testUsers["1002"], 600)
		c2.mustRecv(403)
	})
}

func TestOptionsAndKeepalive(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, tr := range []string{"udp", "tcp", "ws"} {
		t.Run(tr, func(t *testing.T) {
			c := dialSIP(t, s, tr)
			c.send(c.request("OPTIONS", "sip:"+c.server, ""))
			res := c.mustRecv(200)
			for _, h := range []string{"Allow", "Accept", "Supported"} {
				if res.GetHeader(h) == nil {
					t.Fatalf("OPTIONS 200 without %s: %s", h, res)
				}
			}
			if !strings.Contains(res.GetHeader("Allow").Value(), "REGISTER") {
				t.Fatalf("Allow lacks REGISTER: %s", res)
			}
		})
	}
	// RFC 5626 §4.4.1: a double CRLF ping gets a CRLF pong on a stream.
	c := dialSIP(t, s, "tcp")
	c.sendRaw([]byte("\r\n\r\n"))
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2)
	if _, err := c.rd.Read(buf); err != nil || string(buf) != "\r\n" {
		t.Fatalf("keep-alive pong = %q, %v", buf, err)
	}
}

// `softswitch user` changes take effect at once on a running server.
func TestUserCommandsWhileRunning(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	runCLI(t, "user", "add", "3001", "--password", "first-pass", "--data", s.data)
	c := dialSIP(t, s, "udp")
	c.login("3001", "first-pass", 600, "")
	runCLI(t, "user", "passwd", "3001", "--password", "second-pass", "--data", s.data)
	c.mustRegister("3001", "first-pass", 600, "", 403)
	c.mustRegister("3001", "second-pass", 600, "", 200)
	runCLI(t, "user", "del", "3001", "--data", s.data)
	c.mustRegister("3001", "second-pass", 600, "", 403)
}

// SHA-256 digest (RFC 8760): a client that picks the second challenge.
func TestRegisterSHA256(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--config", writeConfig(t, "auth:\n  algorithms: [MD5, SHA-256]\n"))
	c := dialSIP(t, s, "tcp")
	res := c.mustRegister("1001", "", 600, "", 401)
	hs := res.GetHeaders("WWW-Authenticate")
	if len(hs) != 2 || !strings.Contains(hs[0].Value(), "algorithm=MD5") || !strings.Contains(hs[1].Value(), "algorithm=SHA-256") {
		t.Fatalf("challenges %v, want MD5 then SHA-256", hs)
	}
	chal, err := digest.ParseChallenge(hs[1].Value())
	if err != nil {
		t.Fatal(err)
	}
	c.lastChal = chal
	c.mustRegister("1001", testUsers["1001"], 600, "", 200)
	c.mustRegister("1001", "wrong", 600, "", 403)
}

// A UA behind NAT puts its private address in Via and Contact: the answer
// goes to the address the request came from (rport), and the binding
// records that source.
func TestRegisterBehindNAT(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := dialSIP(t, s, "udp")
	real := c.viaHost
	c.viaHost = "192.168.1.50:5060" // what the phone believes it is
	res := c.login("1001", testUsers["1001"], 600, "")
	via := res.Via()
	if got, _ := via.Params.Get("received"); got != "127.0.0.1" {
		t.Fatalf("Via received=%q, want 127.0.0.1: %s", got, via)
	}
	if got, _ := via.Params.Get("rport"); !strings.HasSuffix(real, ":"+got) {
		t.Fatalf("Via rport=%q, want the source port of %s", got, real)
	}
	if reg := s.registrations("1001"); !strings.Contains(reg, "from "+real) {
		t.Fatalf("binding does not record the source %s: %s", real, reg)
	}
}
