package tests

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/icholy/digest"
)

// sipClient is a minimal SIP UA speaking raw text over one transport, so
// tests control every byte. Digest answers come from icholy/digest, an
// implementation independent of ours.
type sipClient struct {
	t         *testing.T
	transport string // udp, tcp, tls, ws, wss
	server    string
	conn      net.Conn
	rd        *bufio.Reader
	viaHost   string
	callID    string
	cseq      int
	tag       string
	nc        int
	lastChal  *digest.Challenge
	lastSent  string // the last message sent, to send it again
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dialSIP connects to the softswitch over transport.
func dialSIP(t *testing.T, s *server, transport string) *sipClient {
	t.Helper()
	return dialSIPFrom(t, s, transport, "")
}

// dialSIPFrom connects from a given local address, "IP" or "IP:port" (UDP
// and TCP only; "" lets the OS choose), e.g. to play a carrier on a second
// loopback address.
func dialSIPFrom(t *testing.T, s *server, transport, local string) *sipClient {
	t.Helper()
	c := &sipClient{t: t, transport: transport, callID: randHex(8) + "@test", tag: randHex(4)}
	var err error
	switch transport {
	case "udp":
		c.server = s.addr("udp")
		var laddr *net.UDPAddr
		if local != "" {
			if !strings.Contains(local, ":") {
				local += ":0"
			}
			if laddr, err = net.ResolveUDPAddr("udp", local); err != nil {
				t.Fatal(err)
			}
		}
		var remote *net.UDPAddr
		if remote, err = net.ResolveUDPAddr("udp", c.server); err == nil {
			c.conn, err = net.DialUDP("udp", laddr, remote)
		}
	case "tcp":
		c.server = s.addr("tcp")
		d := net.Dialer{}
		if local != "" {
			if !strings.Contains(local, ":") {
				local += ":0"
			}
			if d.LocalAddr, err = net.ResolveTCPAddr("tcp", local); err != nil {
				t.Fatal(err)
			}
		}
		c.conn, err = d.Dial("tcp", c.server)
	case "tls":
		c.server = s.addr("tls")
		c.conn, err = tls.Dial("tcp", c.server, &tls.Config{InsecureSkipVerify: true})
	case "ws", "wss":
		scheme, key := "ws", "ws"
		if transport == "wss" {
			scheme, key = "wss", "https"
		}
		c.server = s.addr(key)
		d := ws.Dialer{Protocols: []string{"sip"}, TLSConfig: &tls.Config{InsecureSkipVerify: true}, Timeout: 5 * time.Second}
		var hs ws.Handshake
		c.conn, _, hs, err = d.Dial(context.Background(), scheme+"://"+c.server+"/ws")
		if err == nil && hs.Protocol != "sip" {
			t.Fatalf("websocket subprotocol %q, want sip", hs.Protocol)
		}
	default:
		t.Fatalf("unknown transport %s", transport)
	}
	if err != nil {
		t.Fatalf("dial %s %s: %v", transport, c.server, err)
	}
	c.rd = bufio.NewReader(c.conn)
	c.viaHost = c.conn.LocalAddr().String()
	if transport == "ws" || transport == "wss" {
		c.viaHost = randHex(4) + ".invalid" // as browsers do
	}
	t.Cleanup(func() { c.conn.Close() })
	return c
}

// send writes one SIP message (LF line ends are turned into CRLF).
func (c *sipClient) send(msg string) {
	c.t.Helper()
	if !strings.Contains(msg, "\r\n") {
		msg = strings.ReplaceAll(msg, "\n", "\r\n")
	}
	c.lastSent = msg
	c.sendRaw([]byte(msg))
}

func (c *sipClient) sendRaw(b []byte) {
	c.t.Helper()
	var err error
	switch c.transport {
	case "ws", "wss":
		err = wsutil.WriteClientText(c.conn, b)
	default:
		_, err = c.conn.Write(b)
	}
	if err != nil {
		c.t.Fatalf("send over %s: %v", c.transport, err)
	}
}

// recv reads one response; nil when none arrives within d.
func (c *sipClient) recv(d time.Duration) *sip.Response {
	c.t.Helper()
	raw := c.recvRaw(d)
	if raw == nil {
		return nil
	}
	msg, err := sip.ParseMessage(raw)
	if err != nil {
		c.t.Fatalf("unparseable message from softswitch: %v\n%s", err, raw)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		c.t.Fatalf("expected a response, got:\n%s", raw)
	}
	return res
}

// recvRaw reads one message as bytes; nil when none arrives within d.
func (c *sipClient) recvRaw(d time.Duration) []byte {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	defer c.conn.SetReadDeadline(time.Time{})
	var raw []byte
	var err error
	switch c.transport {
	case "udp":
		buf := make([]byte, 65535)
		var n int
		n, err = c.conn.Read(buf)
		raw = buf[:n]
	case "ws", "wss":
		raw, err = wsutil.ReadServerText(c.conn)
	default:
		raw, err = readStreamMessage(c.rd)
	}
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		c.t.Fatalf("recv over %s: %v", c.transport, err)
	}
	return raw
}

// readStreamMessage reads a SIP message framed by Content-Length.
func readStreamMessage(rd *bufio.Reader) ([]byte, error) {
	var head strings.Builder
	length := 0
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if head.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // keep-alive CRLF
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
		if name, val, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(val))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return append([]byte(head.String()), body...), nil
}

// mustRecv reads a response with the given status code.
func (c *sipClient) mustRecv(code int) *sip.Response {
	c.t.Helper()
	res := c.recv(5 * time.Second)
	if res == nil {
		c.t.Fatalf("no response over %s, want %d", c.transport, code)
	}
	if res.StatusCode != code {
		c.t.Fatalf("got %d %s over %s, want %d\n%s", res.StatusCode, res.Reason, c.transport, code, res)
	}
	return res
}

// register sends a REGISTER for user (with credentials answering the last
// challenge when password is set) and returns the response.
func (c *sipClient) register(user, password string, expires int, contactParams string) *sip.Response {
	c.t.Helper()
	c.sendRegister(user, password, expires, contactParams)
	return c.recv(5 * time.Second)
}

func (c *sipClient) sendRegister(user, password string, expires int, contactParams string) {
	c.t.Helper()
	c.sendRegisterAs(user, user, password, expires, contactParams)
}

// sendRegisterAs registers toUser with the credentials of authUser.
func (c *sipClient) sendRegisterAs(toUser, authUser, password string, expires int, contactParams ...string) {
	c.t.Helper()
	host, _, _ := net.SplitHostPort(c.server)
	uri := "sip:" + host
	extra := ""
	if password != "" && c.lastChal != nil {
		c.nc++
		cred, err := digest.Digest(c.lastChal, digest.Options{Method: "REGISTER", URI: uri, Username: authUser, Password: password, Count: c.nc})
		if err != nil {
			c.t.Fatal(err)
		}
		extra = "Authorization: " + cred.String() + "\n"
	}
	params := strings.Join(contactParams, "")
	contact := fmt.Sprintf("<sip:%s@%s;transport=%s>%s", toUser, c.viaHost, c.transport, params)
	if params == "*" {
		contact = "*"
	}
	extra += fmt.Sprintf("Contact: %s\nExpires: %d\nUser-Agent: softswitch-e2e\n", contact, expires)
	c.send(c.requestFromTo("REGISTER", uri, toUser, toUser, extra))
}

// request builds a request from "probe" with the client's dialog headers.
func (c *sipClient) request(method, ruri, extra string) string {
	return c.requestFromTo(method, ruri, "probe", "probe", extra)
}

// requestFromTo builds a request; extra holds further header lines, each
// ending in a newline.
func (c *sipClient) requestFromTo(method, ruri, from, to, extra string) string {
	c.cseq++
	host, _, _ := net.SplitHostPort(c.server)
	return fmt.Sprintf(`%s %s SIP/2.0
Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport
Max-Forwards: 70
From: <sip:%s@%s>;tag=%s
To: <sip:%s@%s>
Call-ID: %s
CSeq: %d %s
%sContent-Length: 0

`, method, ruri, strings.ToUpper(c.transport), c.viaHost, randHex(6), from, host, c.tag, to, host, c.callID, c.cseq, method, extra)
}

// challenge remembers the first digest challenge (MD5) of a 401.
func (c *sipClient) challenge(res *sip.Response) {
	c.t.Helper()
	hs := res.GetHeaders("WWW-Authenticate")
	if len(hs) == 0 {
		c.t.Fatalf("401 without WWW-Authenticate:\n%s", res)
	}
	chal, err := digest.ParseChallenge(hs[0].Value())
	if err != nil {
		c.t.Fatal(err)
	}
	c.lastChal, c.nc = chal, 0
}

// login registers user with the full challenge/answer exchange.
func (c *sipClient) login(user, password string, expires int, contactParams string) *sip.Response {
	c.t.Helper()
	c.challenge(c.mustRegister(user, "", expires, contactParams, 401))
	return c.mustRegister(user, password, expires, contactParams, 200)
}

func (c *sipClient) mustRegister(user, password string, expires int, contactParams string, code int) *sip.Response {
	c.t.Helper()
	c.sendRegister(user, password, expires, contactParams)
	return c.mustRecv(code)
}
