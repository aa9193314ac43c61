package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The web phone logs in with ephemeral credentials a web app minted (with
// the secret being rotated out) and calls the test number over WSS: the
// INVITE is authenticated as the extension, the test audio's 1000 Hz tone
// is heard in the page, and the CDR names the extension as the caller.
func TestBrowserEphemeralCall(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--config", writeConfig(t, ephemeralYAML))
	p := openPage(t, "https://"+s.addr("https")+"/")
	user, pw := ephemeralCreds("old-secret", "1001", time.Now().Add(time.Hour))
	p.eval(fmt.Sprintf(`phone.login("1001", %q, %q)`, pw, user), nil)
	p.waitTrue(`phone.registered()`, 10*time.Second)
	p.eval(`phone.setTone(440); phone.call("07010002000")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	wins := p.listen(9 * time.Second)
	heardTestAudio(t, wins)
	waitFor(t, 15*time.Second, "the call's CDR", func() bool {
		return len(cdrLines(t, s.data, "07010002000")) == 1
	})
	if line := cdrLines(t, s.data, "07010002000")[0]; !strings.Contains(line, " 1001 ") {
		t.Fatalf("CDR does not name extension 1001 as the caller: %s", line)
	}
}

// A registration made with ephemeral credentials ends when they do: asked
// for 600 s with credentials good for 90 s more, the 200 grants at most 90.
func TestEphemeralRegistrationEndsWithCredentials(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--config", writeConfig(t, ephemeralYAML))
	c := dialSIP(t, s, "udp")
	user, pw := ephemeralCreds("new-secret", "1001", time.Now().Add(90*time.Second))
	c.challenge(c.mustRegister("1001", "", 600, "", 401))
	c.sendRegisterAs("1001", user, pw, 600)
	res := c.mustRecv(200)
	h := res.GetHeader("Contact")
	if h == nil {
		t.Fatal("200 without Contact")
	}
	m := regexp.MustCompile(`expires=(\d+)`).FindStringSubmatch(h.Value())
	if m == nil {
		t.Fatalf("Contact without expires: %s", h.Value())
	}
	if n, _ := strconv.Atoi(m[1]); n > 90 || n < 80 {
		t.Fatalf("granted %d s, want the credentials' remaining 90 s at most", n)
	}
}
