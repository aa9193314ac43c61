package tests

import (
	"strings"
	"testing"
	"time"
)

// The web phone subscribes to its own mailbox over WSS (RFC 3842): it
// shows no count at first; baresip 1001 calls the browser's 1002, which
// does not answer, and leaves a message; the page then says "1 new voicemail".
func TestWebPhoneVoicemailCount(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t, "--dialplan", shippedWithRing(t, 3))
	p := loginPage(t, s, "1002")
	// The first NOTIFY says the mailbox is empty: count 0, nothing shown.
	p.waitTrue(`phone.voicemailSubscribed()`, 15*time.Second)
	var n int
	p.eval(`phone.voicemailCount()`, &n)
	var text string
	p.eval(`phone.voicemailText()`, &text)
	if n != 0 || text != "" {
		t.Fatalf("before any message: count %d, text %q; want 0 and nothing shown", n, text)
	}

	// Setup is retried once, as in TestVoicemailBaresip: under load a call
	// can end before the greeting has played.
	var list string
	for attempt := 1; ; attempt++ {
		caller := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 13 * time.Second,
			codecs: "PCMU/8000/1", dial: "1002", runFor: 30 * time.Second})
		caller.wait(t, 45*time.Second)
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			if list = runCLI(t, "voicemail", "list", "1002", "--data", s.data); strings.Contains(list, " new ") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if strings.Contains(list, " new ") {
			break
		}
		if attempt == 2 {
			t.Fatalf("no message in `voicemail list 1002` after %d calls:\n%s", attempt, list)
		}
		t.Logf("call %d left no message; calling again", attempt)
	}
	p.waitTrue(`phone.voicemailCount() === 1`, 15*time.Second)
	p.eval(`phone.voicemailText()`, &text)
	if text != "1 new voicemail" {
		t.Fatalf("page shows %q, want %q", text, "1 new voicemail")
	}
	p.screenshots("voicemail")
}
