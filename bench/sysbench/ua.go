package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ua is a minimal SIP user agent on one UDP socket: enough to register,
// place authenticated calls and answer them, with retransmission of
// requests until a response comes (bounded).
type ua struct {
	conn   *net.UDPConn
	server *net.UDPAddr
	local  string
	user   user

	mu      sync.Mutex
	waiting map[string]*dialog // call-id -> dialog awaiting responses
	// onRequest handles requests (INVITE, ACK, BYE) not answered by the UA itself.
	onRequest func(m *sipMsg, from *net.UDPAddr)
	done      chan struct{}
}

func newUA(server string, u user) (*ua, error) {
	srv, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(4 << 20)
	a := &ua{conn: conn, server: srv, local: conn.LocalAddr().String(), user: u,
		waiting: map[string]*dialog{}, done: make(chan struct{})}
	go a.readLoop()
	return a, nil
}

func (a *ua) close() { a.conn.Close(); <-a.done }

func (a *ua) readLoop() {
	defer close(a.done)
	buf := make([]byte, 65535)
	for {
		n, from, err := a.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		m, err := parseSIP(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue
		}
		if m.method == "" {
			a.mu.Lock()
			d := a.waiting[m.callID()]
			var ack []byte
			if d != nil {
				ack = d.ack
			}
			a.mu.Unlock()
			if d == nil {
				continue
			}
			if ack != nil && m.status == 200 && m.cseqMethod() == "INVITE" {
				_ = a.send(ack, a.server) // the 200 was resent: our ACK was lost or late
				continue
			}
			select {
			case d.resp <- m:
			default:
			}
			continue
		}
		if a.onRequest != nil {
			a.onRequest(m, from)
		} else if m.method != "ACK" {
			_, _ = a.conn.WriteToUDP(m.response(200, "OK", "", "", nil), from)
		}
	}
}

func (a *ua) send(b []byte, to *net.UDPAddr) error {
	_, err := a.conn.WriteToUDP(b, to)
	return err
}

// dialog is the client side of one call or registration.
type dialog struct {
	a      *ua
	callID string
	tag    string
	cseq   int
	ruri   string
	toTag  string
	remote string // contact of the far end, for in-dialog requests
	routes []string
	resp   chan *sipMsg
	ack    []byte // the ACK of the 200, resent if the 200 is (under ua.mu)
}

func (a *ua) newDialog(ruri string) *dialog {
	d := &dialog{a: a, callID: randHex(8) + "@bench", tag: randHex(4), ruri: ruri, resp: make(chan *sipMsg, 16)}
	a.mu.Lock()
	a.waiting[d.callID] = d
	a.mu.Unlock()
	return d
}

func (d *dialog) forget() {
	d.a.mu.Lock()
	delete(d.a.waiting, d.callID)
	d.a.mu.Unlock()
}

// request builds a request in the dialog.
func (d *dialog) request(method, ruri, to, branch, extra string, body []byte) []byte {
	host := d.a.server.String()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n", method, ruri, d.a.local, branch)
	for _, r := range d.routes {
		fmt.Fprintf(&b, "Route: %s\r\n", r)
	}
	toTag := ""
	if d.toTag != "" {
		toTag = ";tag=" + d.toTag
	}
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>%s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", d.a.user.ext, host, d.tag, to, host, toTag, d.callID, d.cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n%s", d.a.user.ext, d.a.local, extra)
	if len(body) > 0 {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	return append([]byte(b.String()), body...)
}

// transact sends a request and waits for its final response, resending
// it (timer A style: 0.5, 1, 2 s) while nothing at all has come back.
func (d *dialog) transact(ctx context.Context, msg []byte, method string, timeout time.Duration) (*sipMsg, error) {
	if err := d.a.send(msg, d.a.server); err != nil {
		return nil, err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	retrans := 500 * time.Millisecond
	resend := time.NewTimer(retrans)
	defer resend.Stop()
	provisional := false
	for {
		select {
		case m := <-d.resp:
			if m.get("cseq") != fmt.Sprintf("%d %s", d.cseq, method) {
				continue // e.g. a resent 407 to our first INVITE
			}
			if m.status < 200 {
				provisional = true
				continue
			}
			return m, nil
		case <-resend.C:
			if !provisional {
				_ = d.a.send(msg, d.a.server)
				retrans *= 2
				resend.Reset(retrans)
			}
		case <-deadline.C:
			return nil, fmt.Errorf("%s: no final response in %v", method, timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// authorize answers a 401/407 challenge.
func (d *dialog) authorize(m *sipMsg, method, uri string) (string, error) {
	hdr, name := "www-authenticate", "Authorization"
	if m.status == 407 {
		hdr, name = "proxy-authenticate", "Proxy-Authorization"
	}
	chal, err := digest.ParseChallenge(m.get(hdr))
	if err != nil {
		return "", fmt.Errorf("challenge: %w", err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: d.a.user.ext, Password: d.a.user.password, Count: 1})
	if err != nil {
		return "", err
	}
	return name + ": " + cred.String() + "\r\n", nil
}

// register registers the UA's user at its own address.
func (a *ua) register(ctx context.Context) error {
	ruri := "sip:" + a.server.String()
	d := a.newDialog(ruri)
	defer d.forget()
	extra := "Expires: 3600\r\n"
	d.cseq = 1
	res, err := d.transact(ctx, d.request("REGISTER", ruri, a.user.ext, randHex(6), extra, nil), "REGISTER", 5*time.Second)
	if err != nil {
		return err
	}
	if res.status == 401 {
		auth, err := d.authorize(res, "REGISTER", ruri)
		if err != nil {
			return err
		}
		d.cseq = 2
		if res, err = d.transact(ctx, d.request("REGISTER", ruri, a.user.ext, randHex(6), extra+auth, nil), "REGISTER", 5*time.Second); err != nil {
			return err
		}
	}
	if res.status != 200 {
		return fmt.Errorf("REGISTER %s: %d", a.user.ext, res.status)
	}
	return nil
}

// invite places a call to ext with the given SDP, answering a 407, and
// returns the answer SDP once the 200 is ACKed.
func (a *ua) invite(ctx context.Context, ext string, sdp []byte) (*dialog, []byte, error) {
	ruri := "sip:" + ext + "@" + a.server.String()
	d := a.newDialog(ruri)
	d.cseq = 1
	branch := randHex(6)
	res, err := d.transact(ctx, d.request("INVITE", ruri, ext, branch, "", sdp), "INVITE", 8*time.Second)
	if err != nil {
		d.forget()
		return nil, nil, err
	}
	if res.status == 407 || res.status == 401 {
		d.toTag = tagOf(res.get("to"))
		_ = a.send(d.request("ACK", ruri, ext, branch, "", nil), a.server)
		d.toTag = ""
		auth, err := d.authorize(res, "INVITE", ruri)
		if err != nil {
			d.forget()
			return nil, nil, err
		}
		d.cseq = 2
		if res, err = d.transact(ctx, d.request("INVITE", ruri, ext, randHex(6), auth, sdp), "INVITE", 10*time.Second); err != nil {
			d.forget()
			return nil, nil, err
		}
	}
	d.toTag = tagOf(res.get("to"))
	if res.status != 200 {
		_ = a.send(d.request("ACK", ruri, ext, randHex(6), "", nil), a.server)
		d.forget()
		return nil, nil, fmt.Errorf("INVITE %s: %d", ext, res.status)
	}
	d.remote = res.contactURI()
	for i := len(res.headers["record-route"]) - 1; i >= 0; i-- {
		d.routes = append(d.routes, res.headers["record-route"][i])
	}
	ack := d.request("ACK", d.remote, ext, randHex(6), "", nil)
	a.mu.Lock()
	d.ack = ack
	a.mu.Unlock()
	_ = a.send(ack, a.server)
	return d, res.body, nil
}

// bye ends the call (bounded wait for the 200).
func (d *dialog) bye(ctx context.Context, ext string) error {
	defer d.forget()
	d.cseq++
	res, err := d.transact(ctx, d.request("BYE", d.remote, ext, randHex(6), "", nil), "BYE", 5*time.Second)
	if err != nil {
		return err
	}
	if res.status != 200 {
		return fmt.Errorf("BYE: %d", res.status)
	}
	return nil
}

func tagOf(h string) string {
	_, after, ok := strings.Cut(h, ";tag=")
	if !ok {
		return ""
	}
	return strings.Split(after, ";")[0]
}
