package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sippMessage sends one MESSAGE from 1001 (sipp, digest auth) to ext and
// fails the test unless it is answered want.
func sippMessage(t *testing.T, s *server, ext, body, want string) {
	t.Helper()
	sippRun{scenario: "message.xml", transport: "udp", users: [][2]string{{"1001", testUsers["1001"]}},
		service: ext, subst: map[string]string{"@BODY@": body, "@WANT@": want}}.mustPass(t, s.addr("udp"))
}

// MESSAGE (RFC 3428) from sipp to baresip through the softswitch: stored
// (202) while 1002 has no device, delivered with its body intact when
// baresip registers, then delivered live (200). Refused without
// credentials (407) and over the size limit (413), never delivered.
func TestMessageSippToBaresip(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	stored := "stored-hello-" + randHex(6)
	sippMessage(t, s, "1002", stored, "202")
	sippMessage(t, s, "9999", "to nobody", "404")
	unauth := "unauthenticated-" + randHex(6)
	sippRun{scenario: "message_refused.xml", transport: "udp", users: [][2]string{{"1001", "x"}}, service: "1002",
		subst: map[string]string{"@BODY@": unauth, "@WANT@": "407"}}.mustPass(t, s.addr("udp"))
	big := "big-" + randHex(6) + strings.Repeat("x", 9000)
	sippRun{scenario: "message_refused.xml", transport: "udp", users: [][2]string{{"1001", "x"}}, service: "1002",
		subst: map[string]string{"@BODY@": big, "@WANT@": "413"}}.mustPass(t, s.addr("udp"))

	phone := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: time.Second,
		codecs: "PCMU/8000/1", runFor: 25 * time.Second, stdio: true})
	waitFor(t, 15*time.Second, "the stored message at baresip", func() bool {
		return strings.Contains(phone.output(), `sip:1001@`+testHostIP+`: "`+stored)
	})
	waitFor(t, 10*time.Second, "the stored message deleted once delivered", func() bool {
		return strings.Contains(s.logs(), `msg="message: stored message delivered" ext=1002`)
	})
	live := "live-hello-" + randHex(6)
	sippMessage(t, s, "1002", live, "200")
	waitFor(t, 10*time.Second, "the live message at baresip", func() bool {
		return strings.Contains(phone.output(), `sip:1001@`+testHostIP+`: "`+live)
	})
	out := phone.output()
	if strings.Contains(out, unauth) || strings.Contains(out, "big-") {
		t.Fatalf("a refused MESSAGE reached the phone:\n%s", out)
	}
	if n := strings.Count(out, stored); n != 1 {
		t.Fatalf("the stored message arrived %d times, want once", n)
	}
}

// JsSIP in Chromium (over WSS) sends MESSAGE with ua.sendMessage: stored
// (202) while 1002 has no device, delivered to baresip when it registers,
// then delivered live (200); sipp's MESSAGE to the browser arrives in the
// page with its body intact.
func TestMessageBrowserAndBaresip(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	p := loginPage(t, s, "1001")
	stored := "browser-stored-" + randHex(6)
	var code int
	p.eval(fmt.Sprintf(`phone.sendMessage("1002", %q)`, stored), &code)
	if code != 202 {
		t.Fatalf("browser MESSAGE to an extension with no device: %d, want 202", code)
	}
	phone := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: time.Second,
		codecs: "PCMU/8000/1", runFor: 25 * time.Second, stdio: true})
	waitFor(t, 15*time.Second, "the browser's stored message at baresip", func() bool {
		return strings.Contains(phone.output(), `sip:1001@`+testHostIP+`: "`+stored+`"`)
	})
	live := "browser-live-" + randHex(6) + " é ✓"
	p.eval(fmt.Sprintf(`phone.sendMessage("1002", %q)`, live), &code)
	if code != 200 {
		t.Fatalf("browser MESSAGE to a registered baresip: %d, want 200", code)
	}
	waitFor(t, 10*time.Second, "the browser's live message at baresip", func() bool {
		return strings.Contains(phone.output(), `sip:1001@`+testHostIP+`: "`+live+`"`)
	})
	toBrowser := "to-browser-" + randHex(6)
	sippRun{scenario: "message.xml", transport: "udp", users: [][2]string{{"1002", testUsers["1002"]}},
		service: "1001", subst: map[string]string{"@BODY@": toBrowser, "@WANT@": "200"}}.mustPass(t, s.addr("udp"))
	var got []struct{ Dir, Peer, Body string }
	p.eval(`phone.messages()`, &got)
	found := false
	for _, m := range got {
		found = found || m.Dir == "in" && m.Peer == "1002" && strings.TrimRight(m.Body, "\r\n") == toBrowser
	}
	if !found {
		t.Fatalf("the page did not get sipp's message %q: %+v", toBrowser, got)
	}
	// The chat pane shows the three, with the stored and delivered markers.
	var pane string
	p.eval(`document.getElementById("chatlog").innerText`, &pane)
	for _, want := range []string{"to 1002: " + stored + " (stored)", "to 1002: " + live + " (delivered)", "1002: " + toBrowser} {
		if !strings.Contains(pane, want) {
			t.Fatalf("the chat pane lacks %q:\n%s", want, pane)
		}
	}
}

// on_message in the dialplan answers a keyword: the browser's "help" to
// the service address comes back as a MESSAGE from it; what the script
// does not route is refused (403), what it rejects gets its code.
func TestMessageDialplanKeyword(t *testing.T) {
	t.Parallel()
	plan := filepath.Join(t.TempDir(), "dialplan.lua")
	script := `function on_call(call) call:hangup() end
function on_message(msg)
  if msg.to == "desk" and msg.body == "help" then
    return msg:reply("help for " .. msg.from .. ": call 1002 (" .. msg.content_type .. ")")
  end
  if msg.to == "spam" then return msg:reject(488) end
  if msg.to == "1002" then return msg:deliver("1002") end
end
`
	if err := os.WriteFile(plan, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startPhoneServer(t, "--dialplan", plan)
	p := loginPage(t, s, "1001")
	var code int
	p.eval(`phone.sendMessage("desk", "help")`, &code)
	if code != 200 {
		t.Fatalf("help to desk: %d, want 200", code)
	}
	p.waitTrue(`phone.messages().some(m => m.dir === "in" && m.peer === "desk" && m.body === "help for 1001: call 1002 (text/plain)")`, 10*time.Second)
	for to, want := range map[string]int{"spam": 488, "nobody": 403, "1002": 202} {
		p.eval(fmt.Sprintf(`phone.sendMessage(%q, "hello")`, to), &code)
		if code != want {
			t.Errorf("to %s: %d, want %d", to, code, want)
		}
	}
}

// baresip (contact module, /message) sends MESSAGE to a SIP.js
// SimpleUser in Chromium registered over WSS: delivered with the body
// intact (onMessageReceived).
func TestMessageBaresipToSIPjs(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	bundle := bundleSIPjs(t)
	b := openPage(t, "https://"+s.addr("https")+"/")
	b.addScript(bundle)
	b.eval(fmt.Sprintf(`(async () => {
		const su = new SIP.Web.SimpleUser("wss://" + location.host + "/ws", {
			aor: "sip:1001@" + location.hostname,
			userAgentOptions: { authorizationUsername: "1001", authorizationPassword: %q },
		});
		window.got = [];
		su.delegate = { onMessageReceived: (m) => window.got.push(m) };
		await su.connect();
		await su.register();
		return true;
	})()`, testUsers["1001"]), nil)
	waitFor(t, 10*time.Second, "SIP.js registered", func() bool { return strings.Contains(s.registrations("1001"), "via wss") })
	ctrl := freeTCPPortOn(t, testHostIP)
	phone := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: time.Second,
		codecs: "PCMU/8000/1", runFor: 25 * time.Second, ctrlPort: ctrl, extraConfig: "module_app contact.so\n",
		contacts: fmt.Sprintf("\"SIP.js\" <sip:1001@%s>\n", s.addr("udp"))})
	waitFor(t, 10*time.Second, "baresip registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	body := "from-baresip-" + randHex(6)
	phone.command(t, ctrl, "contact_next", "")
	phone.command(t, ctrl, "message", body)
	b.waitTrue(fmt.Sprintf(`window.got.includes(%q)`, body), 10*time.Second)
}
