package dialplan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// Reload compiles at once: a broken script is reported with file:line and
// the last good version keeps running; a good one runs from the next call.
func TestReloadNow(t *testing.T) {
	log, buf := newLogger()
	e, path := newEngine(t, hangupScript("busy"), dialplan.Config{}, log)
	run := func(want string) {
		t.Helper()
		s := dialplantest.NewFakeSession("1001", "1002")
		if err := e.Run(t.Context(), s); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := s.Calls(); !slices.Equal(got, []string{want}) {
			t.Fatalf("calls = %q, want %q", got, want)
		}
	}
	rewriteScript(t, path, "function on_call(call)\n  call:hangup(\nend\n", 1)
	err := e.Reload(t.Context())
	var serr *dialplan.ScriptError
	if !errors.As(err, &serr) || !strings.Contains(err.Error(), path+`:3: near "end": syntax error`) {
		t.Fatalf("Reload of a broken script = %v, want a compile error at %s:3", err, path)
	}
	run("hangup busy")
	if n := strings.Count(buf.String(), "script change rejected"); n != 0 {
		t.Fatalf("a call compiled the version Reload judged already:\n%s", buf)
	}
	rewriteScript(t, path, hangupScript("declined"), 2)
	if err := e.Reload(t.Context()); err != nil {
		t.Fatalf("Reload of a good script: %v", err)
	}
	run("hangup declined")
	if err := e.Reload(t.Context()); err != nil { // unchanged: compiled again, fine
		t.Fatalf("Reload unchanged: %v", err)
	}
}
