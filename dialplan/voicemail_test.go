package dialplan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestVoicemailAPI(t *testing.T) {
	msgs := []dialplan.VoicemailMessage{
		{ID: 3, Caller: "1001", CallerName: "Alice", Time: time.Unix(1772611507, 0), Duration: 5200 * time.Millisecond, Path: "/d/a.wav"},
		{ID: 4, Caller: "1003", Heard: true, Path: "/d/b.wav"},
	}
	s := dialplantest.NewFakeSession("1001", "1002")
	s.Mailboxes = map[string][]dialplan.VoicemailMessage{"1002": msgs}
	s.VoicemailResults = []dialplantest.VoicemailResult{{OK: true}, {Reason: "not-found"}}
	path := writeScript(t, onCall(`call:set("a", tostring(call:voicemail("1002")))
local ok, why = call:voicemail("9999", {greeting = "my-greeting", max = 30, silence = 0})
call:set("b", tostring(ok) .. "," .. why)
local m = call:voicemail_messages("1002")
call:set("n", #m)
call:set("m1", string.format("%d %s %s %d %.1f %s %s", m[1].id, m[1].caller, m[1].caller_name, m[1].time, m[1].seconds, tostring(m[1].heard), m[1].path))
call:voicemail_heard("1002", m[1].id)
call:voicemail_delete("1002", m[2].id)
call:set("left", #call:voicemail_messages("1002"))
call:set("none", #call:voicemail_messages("1001"))`))
	if err := dialplantest.Run(t, path, s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]string{"a": "true", "b": "nil,not-found", "n": "2", "m1": "3 1001 Alice 1772611507 5.2 false /d/a.wav", "left": "1", "none": "0"}
	for k, v := range want {
		if got := s.Vars()[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	calls := s.Calls()
	for _, c := range []string{"voicemail 1002 max=2m0s silence=5s", "voicemail 9999 max=30s silence=0s greeting=my-greeting",
		"voicemail_heard 1002 3", "voicemail_delete 1002 4"} {
		if !slices.Contains(calls, c) {
			t.Errorf("calls %q lack %q", calls, c)
		}
	}
	if box := s.Mailboxes["1002"]; len(box) != 1 || !box[0].Heard {
		t.Errorf("mailbox after the script: %+v, want message 3 heard", box)
	}
}

func TestVoicemailBadArguments(t *testing.T) {
	tests := []struct{ body, want string }{
		{`call:voicemail()`, "voicemail: extension must be a string, got nil"},
		{`call:voicemail("../1001")`, `voicemail: extension "../1001": want 1 to 32 letters, digits`},
		{`call:voicemail(".x")`, `voicemail: extension ".x"`},
		{`call:voicemail(string.rep("1", 33))`, "voicemail: extension"},
		{`call:voicemail("1002", {greeting = 5})`, "voicemail: greeting must be a non-empty string"},
		{`call:voicemail("1002", {max = 0})`, "voicemail: max must be between 0 and 3600 seconds"},
		{`call:voicemail("1002", {silence = -1})`, "voicemail: silence must be a number of seconds"},
		{`call:voicemail("1002", {beep = false})`, "voicemail: unknown option beep (known: greeting, max, silence)"},
		{`call:voicemail_messages(1002)`, "voicemail_messages: extension must be a string, got number"},
		{`call:voicemail_heard("1002")`, "voicemail_heard: id must be a message id (a whole number >= 1), got nil"},
		{`call:voicemail_delete("1002", 1.5)`, "voicemail_delete: id must be a message id"},
		{`call:voicemail_delete("1002", 0)`, "voicemail_delete: id must be a message id"},
		{`call:voicemail_delete("1002", 99)`, "voicemail_delete: no message 99 for 1002"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			err := dialplantest.Run(t, writeScript(t, onCall(tt.body)), dialplantest.NewFakeSession("1001", "1002"))
			var serr *dialplan.ScriptError
			if !errors.As(err, &serr) || serr.Line != 2 || !strings.Contains(serr.Msg, tt.want) {
				t.Fatalf("Run = %v, want a script error at line 2 containing %q", err, tt.want)
			}
		})
	}
}

// The shipped *98 menu: the owner hears the count, each message with its
// number, and the menu; 1 replays, 7 deletes, 9 goes on.
func TestShippedVoicemailMenu(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "*98")
	s.Mailboxes = map[string][]dialplan.VoicemailMessage{"1001": {
		{ID: 7, Caller: "1002", Path: "/data/voicemail/1001/a.wav"},
		{ID: 8, Caller: "1003", Heard: true, Path: "/data/voicemail/1001/b.wav"},
	}}
	s.Digits = []string{"1", "7", "9"} // replay the first, then delete it; skip the second
	if err := dialplantest.RunAt(t, shippedScript, s, fixedNow); err != nil {
		t.Fatalf("Run: %v", err)
	}
	menu := "collect max=1 timeout=5s prompt=vm-menu"
	want := []string{"answer", "voicemail_messages 1001",
		"play vm-you-have", "play say-1", "play vm-new-message",
		"play vm-message", "play say-1", "play /data/voicemail/1001/a.wav", "voicemail_heard 1001 7", menu,
		"play vm-message", "play say-1", "play /data/voicemail/1001/a.wav", menu,
		"voicemail_delete 1001 7", "play vm-deleted",
		"play vm-message", "play say-2", "play /data/voicemail/1001/b.wav", menu,
		"play vm-no-more", "hangup normal"}
	if got := s.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls =\n%q\nwant\n%q", got, want)
	}
	// A mailbox that cannot take a message falls back to the ringing's
	// reason; a carrier may not reach *98.
	s = dialplantest.NewFakeSession("1001", "1002")
	s.Bridges = []dialplantest.BridgeResult{{Reason: "no-answer"}}
	s.VoicemailResults = []dialplantest.VoicemailResult{{Reason: "not-found"}}
	if err := dialplantest.RunAt(t, shippedScript, s, fixedNow); err != nil {
		t.Fatal(err)
	}
	if got := s.Calls(); !slices.Equal(got, []string{"bridge user/1002 timeout=30s", "voicemail 1002 max=2m0s silence=5s", "hangup no-answer"}) {
		t.Errorf("fallback: calls = %q", got)
	}
	s = dialplantest.NewFakeSession("+4930555", "*98")
	s.Call.Trunk = "carrier"
	if err := dialplantest.RunAt(t, shippedScript, s, fixedNow); err != nil {
		t.Fatal(err)
	}
	if got := s.Calls(); !slices.Equal(got, []string{"hangup forbidden"}) {
		t.Errorf("*98 from a carrier: calls = %q, want hangup forbidden", got)
	}
}
