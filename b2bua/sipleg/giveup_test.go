package sipleg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/rtpep"
)

// closeNoted is an RTP endpoint that tells when it is closed.
type closeNoted struct {
	*rtpep.Endpoint
	closed chan struct{}
}

func (e *closeNoted) Close() error {
	select {
	case <-e.closed:
	default:
		close(e.closed)
	}
	return e.Endpoint.Close()
}

// A branch given up before its callee sent anything keeps no media while
// sipgo waits for a provisional response to CANCEL it (up to timer B,
// 32 s); the answer that then comes is refused (issue 20).
func TestGivenUpBranchReleasesMedia(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	srv, err := sipserver.New(sipserver.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.ListenUDPAndTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	optionsOverTCP(t, addr)
	callee, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = callee.Close() })
	ep := &closeNoted{closed: make(chan struct{})}
	newEP := func(context.Context, MediaSpec) (media.Endpoint, error) {
		var err error
		ep.Endpoint, err = rtpep.New(rtpep.Config{IP: "127.0.0.1"}, log)
		return ep, err
	}
	m, err := New(Config{Host: "127.0.0.1"}, srv, nil, nil, fakeUsers{}, newEP, log)
	if err != nil {
		t.Fatal(err)
	}
	opts := leg.DialOptions{CallID: "giveup", Caller: "1001", Trusted: true}
	bs, err := m.Resolve(t.Context(), fmt.Sprintf("sip:1002@%s", callee.LocalAddr()), opts)
	if err != nil || len(bs) != 1 {
		t.Fatalf("Resolve: %d branches, %v", len(bs), err)
	}
	ctx, giveUp := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := bs[0].Dial(ctx, opts)
		done <- err
	}()
	buf := make([]byte, 65536)
	_ = callee.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := callee.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no INVITE: %v", err)
	}
	invite := string(buf[:n])
	giveUp()
	select {
	case <-ep.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the given-up branch kept its media endpoint")
	}
	select {
	case err := <-done:
		t.Fatalf("Dial returned before timer B or a response: %v", err)
	default:
	}
	// The callee answers at last: the branch ends, its answer refused.
	if _, err := callee.WriteToUDP([]byte(answer(invite, "200 OK")), from); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var le *leg.Error
		if err == nil || (!errors.As(err, &le) && !errors.Is(err, context.Canceled)) {
			t.Fatalf("Dial after a late answer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Dial did not end after the late answer")
	}
}

// answer builds the callee's response to invite (its Via, From, To with a
// tag, Call-ID and CSeq), with an SDP answer for a 200.
func answer(invite, status string) string {
	var b strings.Builder
	b.WriteString("SIP/2.0 " + status + "\r\n")
	for _, line := range strings.Split(invite, "\r\n")[1:] {
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "from", "call-id", "cseq":
			b.WriteString(line + "\r\n")
		case "to":
			b.WriteString(line + ";tag=callee\r\n")
		}
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	b.WriteString("Contact: <sip:1002@127.0.0.1>\r\nContent-Type: application/sdp\r\n")
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(sdp), sdp)
	return b.String()
}

// optionsOverTCP has srv answer an OPTIONS over TCP: once it has, sipgo's
// TCP listener is up, and so is its record of our listening ports, which
// sipgo v1.7.2 reads (for our Contact) without its lock.
func optionsOverTCP(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	req := "OPTIONS sip:" + addr + " SIP/2.0\r\nVia: SIP/2.0/TCP " + local + ";branch=z9hG4bK-ready\r\n" +
		"From: <sip:probe@" + local + ">;tag=1\r\nTo: <sip:" + addr + ">\r\nCall-ID: ready\r\nCSeq: 1 OPTIONS\r\n" +
		"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	if n, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 ") {
		t.Fatalf("no answer to OPTIONS over TCP: %q, %v", buf[:n], err)
	}
}
