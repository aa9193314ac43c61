package dialplan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// call.referred_by tells a transferred call from a dialled one, and
// call:transfer hands the call to the dialplan run for another number.
func TestTransferAPI(t *testing.T) {
	body := `if call.referred_by ~= "" then
  call:set("by", call.referred_by)
  return call:bridge("user/" .. call.destination)
end
call:transfer("1003")`
	for _, tc := range []struct {
		referrer string
		want     []string
	}{
		{"", []string{"transfer 1003"}},
		{"1002", []string{"set by=1002", "bridge user/1002"}},
	} {
		s := dialplantest.NewFakeSession("1001", "1002")
		s.Call.Referrer = tc.referrer
		if err := dialplantest.Run(t, writeScript(t, onCall(body)), s); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := s.Calls(); !slices.Equal(got, tc.want) {
			t.Errorf("referred by %q: calls = %q, want %q", tc.referrer, got, tc.want)
		}
	}
}

func TestTransferBadArguments(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`call:transfer()`, "transfer: target must be a string, got nil"},
		{`call:transfer({})`, "transfer: target must be a string, got table"},
		{`call:transfer("")`, "transfer: target must not be empty"},
		{`call:transfer("10 03")`, "transfer: target must be a number or extension"},
		{`call:transfer(string.rep("1", 200))`, "transfer: target must be a number or extension"},
		{`call.transfer("1003")`, "transfer: call it as call:transfer"},
		{`call.referred_by = "x"`, "call.referred_by is read-only"},
	} {
		err := dialplantest.Run(t, writeScript(t, onCall(tc.body)), dialplantest.NewFakeSession("1001", "1002"))
		var serr *dialplan.ScriptError
		if !errors.As(err, &serr) || serr.Line != 2 || !strings.Contains(serr.Msg, tc.want) {
			t.Errorf("%s: Run = %v, want a script error at line 2 containing %q", tc.body, err, tc.want)
		}
	}
	s := dialplantest.NewFakeSession("1001", "1002")
	s.Errors = map[string]error{"transfer": errors.New("more than 4 transfers in a row")}
	err := dialplantest.Run(t, writeScript(t, onCall(`call:transfer("1003")`)), s)
	var serr *dialplan.ScriptError
	if !errors.As(err, &serr) || serr.Msg != "transfer: more than 4 transfers in a row" {
		t.Fatalf("Run = %v, want the session's error as a script error", err)
	}
}
