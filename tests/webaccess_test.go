package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

type axNode struct{ Role, Name string }

// ax returns the controls of Chromium's accessibility tree: what a screen
// reader announces.
func (p *page) ax() []axNode {
	p.t.Helper()
	var nodes []axNode
	if err := json.Unmarshal(p.command(map[string]any{"ax": true}), &nodes); err != nil {
		p.t.Fatal(err)
	}
	return nodes
}

// assertNamed checks every control has a name and the wanted ones are there.
func assertNamed(t *testing.T, nodes []axNode, want ...axNode) {
	t.Helper()
	have := map[axNode]bool{}
	for _, n := range nodes {
		if strings.TrimSpace(n.Name) == "" {
			t.Errorf("a %s has no accessible name: %+v", n.Role, nodes)
		}
		have[n] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("no %s named %q in the accessibility tree: %+v", w.Role, w.Name, nodes)
		}
	}
}

// focused returns the id of the element with the keyboard focus.
func (p *page) focused() string {
	p.t.Helper()
	var id string
	p.eval(`document.activeElement ? document.activeElement.id : ""`, &id)
	return id
}

func (p *page) wantFocus(id string) {
	p.t.Helper()
	p.waitTrue(fmt.Sprintf(`document.activeElement && document.activeElement.id === %q`, id), 5*time.Second)
}

// The web phone works from the keyboard alone (real key presses): Tab to
// the login form, Enter to log in, type a number and Enter to dial, the
// focus moves to Hang up, Space mutes, Enter hangs up and the focus comes
// back to the number. Every control has a name a screen reader can say.
func TestWebPhoneKeyboard(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	p := openPage(t, "https://"+s.addr("https")+"/")
	assertNamed(t, p.ax(), axNode{"textbox", "Extension"}, axNode{"textbox", "Password"}, axNode{"button", "Log in"},
		axNode{"link", "Self-test: check this browser and network for calls"})
	p.keys("Tab")
	p.wantFocus("ext")
	p.keys("text:1001", "Tab")
	p.wantFocus("password")
	p.keys("text:"+testUsers["1001"], "Enter")
	p.waitTrue(`phone.registered()`, 10*time.Second)
	p.wantFocus("number")
	assertNamed(t, p.ax(), axNode{"textbox", "Number to call"}, axNode{"button", "Call"}, axNode{"button", "5"},
		axNode{"button", "Test call (07010002000)"}, axNode{"button", "Log out"}, axNode{"meter", "Microphone"},
		axNode{"meter", "Far end"}, axNode{"checkbox", "Send a 440 Hz test tone instead of the microphone"},
		axNode{"checkbox", "Camera (video calls between browsers)"})

	p.keys("text:07010002000", "Enter")
	p.waitTrue(`phone.inCall()`, 15*time.Second)
	p.wantFocus("hangup")
	p.keys("Tab")
	p.wantFocus("mute")
	p.keys("Space")
	p.waitTrue(`document.getElementById("mute").getAttribute("aria-pressed") === "true"`, 5*time.Second)
	assertNamed(t, p.ax(), axNode{"button", "Hang up"}, axNode{"button", "Unmute"}, axNode{"button", "Hold"}, axNode{"button", "Transfer"})
	p.keys("Shift+Tab")
	p.wantFocus("hangup")
	p.keys("Enter")
	p.waitTrue(`phone.status() === "Call ended."`, 10*time.Second)
	p.wantFocus("number")
}

// assertReadable checks the page at width: nothing scrolls sideways, every shown
// element fits, no text under 12 px.
func (p *page) assertReadable(width int) {
	p.t.Helper()
	var got struct {
		ScrollWidth int
		Bad         []string
	}
	p.eval(`(() => {
		const bad = [];
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") continue;
			const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
			if (r.left < -1 || r.right > innerWidth + 1) bad.push(name + " runs off the screen (" + Math.round(r.left) + ".." + Math.round(r.right) + ")");
			const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
			const px = parseFloat(getComputedStyle(el).fontSize);
			if (text && px < 12) bad.push(name + " text is " + px + " px");
		}
		return { scrollWidth: document.documentElement.scrollWidth, bad };
	})()`, &got)
	if got.ScrollWidth > width || len(got.Bad) > 0 {
		p.t.Fatalf("at %d px: page %d px wide; %v", width, got.ScrollWidth, got.Bad)
	}
}

// layout returns where the elements with these ids are (x, y, width,
// height); by default the phone's controls.
func (p *page) layout(ids ...string) string {
	p.t.Helper()
	if len(ids) == 0 {
		ids = []string{"status", "error", "number", "pad", "call", "testcall", "logout", "tone", "mic", "level"}
	}
	list, _ := json.Marshal(ids)
	var out string
	p.eval(fmt.Sprintf(`%s.map((id) => {
		const r = document.getElementById(id).getBoundingClientRect();
		return id + " " + [r.x, r.y, r.width, r.height].map(Math.round).join(",");
	}).join("; ")`, list), &out)
	return out
}

// At a desktop and a phone width the page is readable, and nothing moves
// when an error appears or a call fails with a one- or two-line sentence.
func TestWebPhoneLayout(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", webphoneDialplan)
	p := loginPage(t, s, "1001")
	p.eval(`phone.setTone(440)`, nil)
	for _, size := range [][2]int{{1280, 800}, {390, 844}} {
		p.viewport(size[0], size[1])
		p.assertReadable(size[0])
		before := p.layout()
		for _, step := range []struct{ do, shown string }{
			{`phone.call("")`, `phone.error() === "Enter a number to call."`},
			{`phone.call("1999")`, `phone.status() === "1999 does not exist." && phone.error() === ""`},
			{`phone.call("1004")`, `phone.status() === "The server is overloaded, try again in a moment."`},
			{`phone.call("")`, `phone.error() === "Enter a number to call."`},
		} {
			p.eval(step.do, nil)
			p.waitTrue(step.shown, 15*time.Second)
			if after := p.layout(); after != before {
				t.Fatalf("at %dx%d the page moved after %s:\nbefore %s\nafter  %s", size[0], size[1], step.do, before, after)
			}
		}
		p.assertReadable(size[0])
	}
}
