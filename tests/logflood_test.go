package tests

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/ratelog"
)

// Bad input from many addresses (UDP sources cost a spoofer nothing) makes
// at most ratelog.PerKind lines of a kind a minute, each of them short
// (issue 12, item 8): junk datagrams, and INVITEs from strangers with a
// 3000-digit destination, from 300 sources each.
func TestLogBoundedUnderManySources(t *testing.T) {
	s := startServer(t, "", "--dialplan", testDialplan)
	dst, err := net.ResolveUDPAddr("udp", s.addr("udp"))
	if err != nil {
		t.Fatal(err)
	}
	const sources = 300
	long := strings.Repeat("9", 3000)
	for i := 0; i < sources; i++ {
		src := &net.UDPAddr{IP: net.IPv4(127, 0, byte(3+i/250), byte(1+i%250))}
		c, err := net.DialUDP("udp", src, dst)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("junk " + strings.Repeat("j", 2000) + "\r\n\r\n"))
		_, _ = fmt.Fprintf(c, "INVITE sip:%s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKflood%d\r\n"+
			"From: <sip:9999@127.0.0.9>;tag=f%d\r\nTo: <sip:%s@127.0.0.1>\r\nCall-ID: flood-%d\r\nCSeq: 1 INVITE\r\n"+
			"Contact: <sip:9999@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", long, c.LocalAddr(), i, i, long, i, c.LocalAddr())
		_ = c.Close()
		time.Sleep(2 * time.Millisecond) // paced: the socket's buffer holds ~100 such datagrams
	}
	kinds := map[string]string{"junk": `msg="bad SIP input"`, "strangers' INVITEs": `msg="call refused: not from an extension or a trunk"`}
	count := func(marker string) (n, longest int) {
		for _, line := range strings.Split(s.logs(), "\n") {
			if strings.Contains(line, marker) {
				n++
				longest = max(longest, len(line))
			}
		}
		return n, longest
	}
	// Wait until the server has read what was sent (it logs both kinds up
	// to the ceiling), then a little more for any line beyond it.
	waitFor(t, 10*time.Second, "both kinds logged", func() bool {
		a, _ := count(kinds["junk"])
		b, _ := count(kinds["strangers' INVITEs"])
		return a >= ratelog.PerKind && b >= ratelog.PerKind
	})
	time.Sleep(time.Second)
	for what, marker := range kinds {
		n, longest := count(marker)
		if n > ratelog.PerKind {
			t.Errorf("%s from %d sources: %d log lines, want at most %d", what, sources, n, ratelog.PerKind)
		}
		if longest > 1000 {
			t.Errorf("%s: a log line of %d bytes", what, longest)
		}
	}
	dialSIP(t, s, "udp").login("1001", testUsers["1001"], 300, "")
}
