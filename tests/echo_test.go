package tests

import (
	"strings"
	"testing"
	"time"
)

// A baresip phone dials the echo test number 07010002001 of the shipped
// dialplan and hears its own 1000 Hz tone back at a clear level.
func TestEchoTestNumber(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	caller := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 4 * time.Second,
		codecs: "PCMU/8000/1", dial: "07010002001", runFor: 7 * time.Second})
	caller.wait(t, 30*time.Second)
	assertHeardTone(t, "caller", caller.heard(t), 1000)
	waitFor(t, 10*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "07010002001")
	})
}
