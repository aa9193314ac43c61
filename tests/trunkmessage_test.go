package tests

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// carrierMessageYAML is a carrier on carrierIP:port that sends from any
// port of carrierIP and wants credentials acct/secret in realm
// carrier.test.
func carrierMessageYAML(port int) string {
	return "trunks:\n" + trunkYAML("carrier", carrierIP, port,
		"username: acct\npassword: secret\nrealm: carrier.test\noptions_interval: -1\nfrom_addresses: [\""+carrierIP+"/32\"]")
}

// carrierMessage sends a MESSAGE with body from number to the DID as the
// carrier c would (no credentials) and returns the final status.
func carrierMessage(c *sipClient, number, did, body string) int {
	c.t.Helper()
	host, _, _ := strings.Cut(c.server, ":")
	c.cseq++
	c.send(fmt.Sprintf("MESSAGE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"+
		"From: <sip:%s@%s>;tag=%s\r\nTo: <sip:%s@%s>\r\nCall-ID: %s@carrier\r\nCSeq: %d MESSAGE\r\n"+
		"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n\r\n%s",
		did, host, c.viaHost, randHex(6), number, carrierIP, randHex(4), did, host, randHex(8), c.cseq, len(body), body))
	for {
		res := c.recv(10 * time.Second)
		if res == nil {
			c.t.Fatalf("no answer to the carrier's MESSAGE for %s", did)
		}
		if res.StatusCode >= 200 {
			return res.StatusCode
		}
	}
}

// verifyDigest checks the credentials of h against chal for acct/secret,
// computed independently (icholy/digest).
func verifyDigest(t *testing.T, chal *digest.Challenge, method string, h sip.Header) {
	t.Helper()
	if h == nil {
		t.Fatal("the second MESSAGE carries no Proxy-Authorization")
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		t.Fatalf("Proxy-Authorization %q: %v", h.Value(), err)
	}
	want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: "acct", Password: "secret",
		Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil {
		t.Fatal(err)
	}
	if cred.Username != "acct" || cred.Realm != "carrier.test" || cred.Response != want.Response {
		t.Fatalf("credentials %q do not answer the challenge with acct/secret", h.Value())
	}
}

// An extension's MESSAGE (sipp, authenticated) that on_message routes to
// trunk/carrier/NUMBER reaches the carrier (a Go UAS on its own loopback
// address) with its body intact and the caller msg:set_caller presents,
// after the carrier's 407 was answered with the trunk's credentials; the
// sender gets the carrier's 202. The
// carrier's own MESSAGE to a DID reaches the extension's baresip with its
// body intact.
func TestMessageThroughTrunk(t *testing.T) {
	t.Parallel()
	port := freePortOn(t, "udp", carrierIP)
	s := startPhoneServer(t, "--config", writeConfig(t, carrierMessageYAML(port)), "--dialplan", trunkDialplan)
	carrier := dialSIPFrom(t, s, "udp", carrierIP+":"+strconv.Itoa(port))

	out := "to-the-carrier-" + randHex(6) + " é ✓"
	type sippResult struct {
		code int
		logs string
	}
	done := make(chan sippResult, 1)
	go func() { // 1001 signs its MESSAGE and wants the carrier's 202
		code, logs := sippRun{scenario: "message.xml", transport: "udp", users: [][2]string{{"1001", testUsers["1001"]}},
			service: "04930555", subst: map[string]string{"@BODY@": out, "@WANT@": "202"}}.run(t, s.addr("udp"))
		done <- sippResult{code, logs}
	}()
	first := carrier.mustRecvRequest("MESSAGE", 10*time.Second)
	chal := &digest.Challenge{Realm: "carrier.test", Nonce: randHex(8), Algorithm: "MD5", QOP: []string{"auth"}}
	res := sip.NewResponseFromRequest(first, 407, "Proxy Authentication Required", nil)
	res.To().Params.Add("tag", carrier.tag)
	res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
	carrier.send(res.String())
	second := carrier.mustRecvRequest("MESSAGE", 10*time.Second)
	verifyDigest(t, chal, "MESSAGE", second.GetHeader("Proxy-Authorization"))
	carrier.respond(second, 202, "Accepted", "")
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("sipp (1001) exited %d, want 0 (the carrier's 202):\n%s", r.code, r.logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("sipp (1001) did not finish")
	}
	for _, req := range []*sip.Request{first, second} {
		if got := strings.TrimRight(string(req.Body()), "\r\n"); got != out {
			t.Errorf("the carrier got body %q, want %q", got, out)
		}
	}
	if u := second.Recipient; u.User != "4930555" || u.Host != carrierIP || u.Port != port {
		t.Errorf("Request-URI %s, want sip:4930555@%s:%d", u.String(), carrierIP, port)
	}
	// The caller as on_message's msg:set_caller presents it, as calls do.
	wantFrom := `"Ext 1001" <sip:49301001@` + carrierIP + `>`
	if f := second.From(); !strings.HasPrefix(f.Value(), wantFrom+";tag=") {
		t.Errorf("From %s, want %s", f.Value(), wantFrom)
	}
	if h := second.GetHeader("P-Asserted-Identity"); h == nil || h.Value() != wantFrom {
		t.Errorf("P-Asserted-Identity %v, want %s", h, wantFrom)
	}
	if ct := second.ContentType(); ct == nil || ct.Value() != "text/plain;charset=UTF-8" {
		t.Errorf("Content-Type %v, want the sender's text/plain;charset=UTF-8", ct)
	}

	phone := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 440, toneFor: time.Second,
		codecs: "PCMU/8000/1", runFor: 25 * time.Second, stdio: true})
	waitFor(t, 10*time.Second, "baresip registered", func() bool { return strings.Contains(s.registrations("1001"), "via udp") })
	in := "from-the-carrier-" + randHex(6) + " é ✓"
	if code := carrierMessage(carrier, "+15551234567", "5550100", in); code != 200 {
		t.Fatalf("the carrier's MESSAGE to DID 5550100 answered %d, want 200 (baresip took it)", code)
	}
	waitFor(t, 10*time.Second, "the carrier's message at baresip", func() bool {
		return strings.Contains(phone.output(), `sip:+15551234567@`+testHostIP+`: "`+in+`"`)
	})
	if code := carrierMessage(carrier, "+15551234567", "5559999", "no such DID"); code != 404 {
		t.Fatalf("the carrier's MESSAGE to an unknown DID answered %d, want 404", code)
	}
}

// A MESSAGE aimed at a trunk number never reaches the carrier unless an
// extension signed it: without credentials (from anywhere, the carrier's
// address range excepted) it is challenged, and a carrier's own MESSAGE
// routed back out to a carrier is refused (403).
func TestMessageToTrunkRefused(t *testing.T) {
	t.Parallel()
	sink := newUDPSink(t, carrierIP)
	cfg := "trunks:\n" + trunkYAML("carrier", carrierIP, sink.port(), "options_interval: -1") +
		trunkYAML("inbound", otherIP, 5060, "options_interval: -1\nfrom_addresses: [\""+otherIP+"/32\"]")
	s := startServer(t, "", "--config", writeConfig(t, cfg), "--dialplan", trunkDialplan)
	anon := dialSIP(t, s, "udp")
	if code := carrierMessage(anon, "1001", "04930555", "anonymous"); code != 407 {
		t.Fatalf("unauthenticated MESSAGE to a trunk number answered %d, want 407", code)
	}
	stranger := dialSIPFrom(t, s, "udp", "127.0.0.4")
	if code := carrierMessage(stranger, "1001", "04930555", "stranger"); code != 407 {
		t.Fatalf("MESSAGE from an unknown address answered %d, want 407", code)
	}
	other := dialSIPFrom(t, s, "udp", otherIP)
	if code := carrierMessage(other, "+15551234567", "04930555", "carrier to carrier"); code != 403 {
		t.Fatalf("a carrier's MESSAGE routed to a trunk answered %d, want 403", code)
	}
	// Each answer follows what was sent out for it; a datagram sent would
	// be in the sink (loopback) by now, give or take its reader.
	time.Sleep(300 * time.Millisecond)
	if m := sink.methods(); len(m) > 0 {
		t.Fatalf("the carrier was sent %v", m)
	}
	if !strings.Contains(s.logs(), `msg="message: a carrier's message is not sent to a trunk" trunk=inbound`) {
		t.Error("log lacks the refusal of the carrier's message")
	}
}
