package tests

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// recvRequest reads one request; nil when none arrives within d.
// Responses arriving meanwhile are skipped.
func (c *sipClient) recvRequest(d time.Duration) *sip.Request {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		raw := c.recvRaw(time.Until(deadline))
		if raw == nil {
			return nil
		}
		msg, err := sip.ParseMessage(raw)
		if err != nil {
			c.t.Fatalf("unparseable message from softswitch: %v\n%s", err, raw)
		}
		if req, ok := msg.(*sip.Request); ok {
			return req
		}
	}
	return nil
}

// mustRecvRequest reads a request of the given method.
func (c *sipClient) mustRecvRequest(method string, d time.Duration) *sip.Request {
	c.t.Helper()
	req := c.recvRequest(d)
	if req == nil {
		c.t.Fatalf("no %s within %v", method, d)
	}
	if string(req.Method) != method {
		c.t.Fatalf("got %s, want %s:\n%s", req.Method, method, req)
	}
	return req
}

// respond answers a request (as a phone would), with a To tag.
func (c *sipClient) respond(req *sip.Request, code int, reason, sdp string) {
	c.t.Helper()
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if code > 100 {
		if to := res.To(); to != nil {
			if _, ok := to.Params.Get("tag"); !ok {
				to.Params.Add("tag", c.tag)
			}
		}
	}
	if sdp != "" {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.SetBody([]byte(sdp))
	}
	if code >= 200 && code < 300 {
		res.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:dev@%s>", c.viaHost)))
	}
	c.send(res.String())
}

// offer is a PCMU SDP offer for a media port on loopback.
func offer(port int) string {
	return fmt.Sprintf("v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n", port)
}

// call is one INVITE transaction from a sipClient.
type call struct {
	c      *sipClient
	user   string
	dest   string
	branch string
	cseq   int
	auth   string
	body   string
}

// invite sends an INVITE from user to dest; with a password it answers
// the 407 challenge first. It returns the call and the first response
// after 100 Trying (after authentication).
func (c *sipClient) invite(user, password, dest string, rtpPort int) (*call, *sip.Response) {
	c.t.Helper()
	cl := c.startInvite(user, password, dest, rtpPort)
	return cl, cl.next()
}

// startInvite sends an INVITE, answering a 407 challenge when a password
// is given (a 407 without one is left for next), and returns without
// waiting for the outcome.
func (c *sipClient) startInvite(user, password, dest string, rtpPort int) *call {
	c.t.Helper()
	cl := &call{c: c, user: user, dest: dest}
	if rtpPort > 0 { // 0: no SDP, a late offer
		cl.body = offer(rtpPort)
	}
	cl.send(user)
	if password == "" {
		return cl
	}
	res := cl.next()
	if res.StatusCode != 407 {
		c.t.Fatalf("INVITE answered %d, want a 407 challenge first", res.StatusCode)
	}
	cl.ack(res)
	cl.authorize(res, password)
	cl.send(user)
	return cl
}

// authorize answers the challenge of a 407 in the next INVITE.
func (cl *call) authorize(res *sip.Response, password string) {
	c := cl.c
	chal, err := digest.ParseChallenge(res.GetHeader("Proxy-Authenticate").Value())
	if err != nil {
		c.t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: cl.ruri(), Username: cl.user, Password: password, Count: 1})
	if err != nil {
		c.t.Fatal(err)
	}
	cl.auth = "Proxy-Authorization: " + cred.String() + "\r\n"
}

func (cl *call) ruri() string {
	host, port, _ := net.SplitHostPort(cl.c.server)
	return "sip:" + cl.dest + "@" + host + ":" + port
}

func (cl *call) send(user string) {
	c := cl.c
	c.cseq++
	cl.cseq = c.cseq
	cl.branch = "z9hG4bK" + randHex(6)
	host, _, _ := net.SplitHostPort(c.server)
	ctype := ""
	if cl.body != "" {
		ctype = "Content-Type: application/sdp\r\n"
	}
	msg := fmt.Sprintf("INVITE %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\n"+
		"Contact: <sip:%s@%s>\r\n%s%sContent-Length: %d\r\n\r\n%s",
		cl.ruri(), strings.ToUpper(c.transport), c.viaHost, cl.branch, user, host, c.tag, cl.dest, host,
		c.callID, cl.cseq, user, c.viaHost, cl.auth, ctype, len(cl.body), cl.body)
	c.send(msg)
}

// next returns the next response other than 100 Trying.
func (cl *call) next() *sip.Response {
	cl.c.t.Helper()
	for i := 0; i < 10; i++ {
		res := cl.c.recv(10 * time.Second)
		if res == nil {
			cl.c.t.Fatal("no response to INVITE")
		}
		if res.StatusCode != 100 {
			return res
		}
	}
	cl.c.t.Fatal("only 100 Trying")
	return nil
}

// finalResponse returns the final response, skipping provisional ones.
func (cl *call) finalResponse() *sip.Response {
	cl.c.t.Helper()
	res := cl.next()
	for i := 0; res.StatusCode < 200 && i < 10; i++ {
		res = cl.next()
	}
	return res
}

// final waits (from another goroutine) for the final response of an
// INVITE and ACKs it; it reports the status, or 0 with the reason, on out.
func (c *sipClient) final(user, password, dest string, rtpPort int, out chan<- result) {
	sent := false
	defer func() {
		// t.Fatal in this goroutine ends it through runtime.Goexit.
		if !sent {
			out <- result{why: fmt.Sprint("client gave up: ", recover())}
		}
	}()
	cl, res := c.invite(user, password, dest, rtpPort)
	for res.StatusCode < 200 {
		res = cl.next()
	}
	cl.ack(res)
	sent = true
	out <- result{code: res.StatusCode}
}

type result struct {
	code int
	why  string
}

// wait reads a result with a bound.
func waitResult(t *testing.T, ch <-chan result) int {
	t.Helper()
	select {
	case r := <-ch:
		if r.code == 0 {
			t.Fatalf("call failed: %s", r.why)
		}
		return r.code
	case <-time.After(30 * time.Second):
		t.Fatal("no final response within 30 s")
	}
	return 0
}

// ack acknowledges a final response: same branch for non-2xx (RFC 3261 §17.1.1.3).
func (cl *call) ack(res *sip.Response) { cl.ackWith(res, "") }

// ackWith sends an ACK carrying sdp (the answer to a late offer).
func (cl *call) ackWith(res *sip.Response, sdp string) {
	c := cl.c
	branch := cl.branch
	if res.StatusCode < 300 {
		branch = "z9hG4bK" + randHex(6)
	}
	ctype := ""
	if sdp != "" {
		ctype = "Content-Type: application/sdp\r\n"
	}
	msg := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\nMax-Forwards: 70\r\n%s\r\n%s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\n%sContent-Length: %d\r\n\r\n%s",
		cl.ruri(), strings.ToUpper(c.transport), c.viaHost, branch, res.From().String(), res.To().String(), c.callID, cl.cseq, ctype, len(sdp), sdp)
	c.send(msg)
}

// cancel sends CANCEL for the pending INVITE.
func (cl *call) cancel() {
	c := cl.c
	host, _, _ := net.SplitHostPort(c.server)
	msg := fmt.Sprintf("CANCEL %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d CANCEL\r\nContent-Length: 0\r\n\r\n",
		cl.ruri(), strings.ToUpper(c.transport), c.viaHost, cl.branch, cl.user, host, c.tag, cl.dest, host, c.callID, cl.cseq)
	c.send(msg)
}

// bye ends an answered call.
func (cl *call) bye(res *sip.Response) {
	c := cl.c
	c.cseq++
	msg := fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n%s\r\n%s\r\nCall-ID: %s\r\nCSeq: %d BYE\r\nContent-Length: 0\r\n\r\n",
		cl.ruri(), strings.ToUpper(c.transport), c.viaHost, randHex(6), res.From().String(), res.To().String(), c.callID, c.cseq)
	c.send(msg)
}

// reinvite sends a re-INVITE in the dialog of an answered call with a new
// SDP and returns the final response (ACKed).
func (cl *call) reinvite(answer *sip.Response, sdp string) *sip.Response {
	c := cl.c
	c.cseq++
	cl.cseq = c.cseq
	cl.branch = "z9hG4bK" + randHex(6)
	msg := fmt.Sprintf("INVITE %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\nMax-Forwards: 70\r\n%s\r\n%s\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\n"+
		"Contact: <sip:%s@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		cl.ruri(), strings.ToUpper(c.transport), c.viaHost, cl.branch, answer.From().String(), answer.To().String(),
		c.callID, cl.cseq, cl.user, c.viaHost, len(sdp), sdp)
	c.send(msg)
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	cl.ack(res)
	return res
}
