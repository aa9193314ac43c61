package dialplan_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestMoreCallAPI(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		setup func(s *dialplantest.FakeSession)
		want  []string
	}{
		{
			name: "get what set stored",
			body: `call:set("lang", "en"); call:set("n", 7)
call:set("got", tostring(call:get("lang")) .. "," .. tostring(call:get("n")) .. "," .. tostring(call:get("none")))`,
			want: []string{"set lang=en", "set n=7", "set got=en,7,nil"},
		},
		{
			name: "set replaces",
			body: `call:set("a", "1"); call:set("a", "2"); call:set("got", call:get("a"))`,
			want: []string{"set a=1", "set a=2", "set got=2"},
		},
		{
			name: "several prompts",
			body: `call:play("a", "b", "/srv/c.wav"); call:play{"d", "e"}`,
			want: []string{"play a", "play b", "play /srv/c.wav", "play d", "play e"},
		},
		{
			name: "say digits",
			body: `call:say_digits("1203"); call:say_digits(45)`,
			want: []string{"play say-1", "play say-2", "play say-0", "play say-3", "play say-4", "play say-5"},
		},
		{
			name: "say number",
			body: `call:say_number(0); call:say_number(-17); call:say_number(1205)`,
			want: []string{"play say-0", "play say-minus", "play say-17",
				"play say-1", "play say-thousand", "play say-2", "play say-hundred", "play say-5"},
		},
		{
			name: "sleep",
			body: `call:sleep(0.01); call:sleep(0); call:set("slept", "yes")`,
			want: []string{"set slept=yes"},
		},
		{
			name: "conference defaults and options",
			body: `call:conference("3001")
local ok, why = call:conference("conf-team_a", {pin = "1234", max = 5, moderator = true, muted = true})
call:set("outcome", tostring(ok) .. "," .. tostring(why))
call:conference("x", {pin = 42, gain = 1.5})
call:conference("rec", {record = true})`,
			setup: func(s *dialplantest.FakeSession) {
				s.Conferences = []dialplantest.BridgeResult{{OK: true}, {Reason: dialplan.ConfWrongPIN}}
			},
			want: []string{"conference 3001 pin= max=0 moderator=false muted=false",
				"conference conf-team_a pin=1234 max=5 moderator=true muted=true", "set outcome=nil,wrong-pin",
				"conference x pin=42 max=0 moderator=false muted=false gain=1.5",
				"conference rec pin= max=0 moderator=false muted=false record=true"},
		},
		{
			name: "echo default and bound",
			body: `call:echo(); call:echo(2.5)`,
			want: []string{"echo 5m0s", "echo 2.5s"},
		},
		{
			name: "record defaults",
			body: `local path, secs, why = call:record("greeting-1001")
call:set("r", path .. "," .. secs .. "," .. why)`,
			want: []string{"record greeting-1001 max=1m0s terminator=#", "set r=greeting-1001.wav,0,terminator"},
		},
		{
			name: "record options",
			setup: func(s *dialplantest.FakeSession) {
				s.Recordings = []dialplan.RecordResult{{Path: "/data/recordings/m.wav", Duration: 2500 * time.Millisecond, Reason: dialplan.StopSilence}}
			},
			body: `local path, secs, why = call:record("m.wav", {max = 10, silence = 3, terminator = "*#"})
call:set("r", path .. "," .. secs .. "," .. why)
call:record("n", {terminator = ""})`,
			want: []string{"record m.wav max=10s silence=3s terminator=*#", "set r=/data/recordings/m.wav,2.5,silence", "record n max=1m0s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dialplantest.NewFakeSession("1001", "1002")
			if tt.setup != nil {
				tt.setup(s)
			}
			if err := dialplantest.Run(t, writeScript(t, onCall(tt.body)), s); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := s.Calls(); !slices.Equal(got, tt.want) {
				t.Errorf("calls = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMoreBadArguments(t *testing.T) {
	tests := []struct {
		name string
		body string // on line 2
		want string
	}{
		{"get nothing", `call:get()`, "get: name must be a string, got nil"},
		{"get number", `call:get(5)`, "get: name must be a string, got number"},
		{"set long name", `call:set(string.rep("a", 65), "x")`, "is 65 bytes, at most 64"},
		{"set long value", `call:set("a", string.rep("x", 1025))`, "set: value of a is 1025 bytes, at most 1024"},
		{"set too many", `for i = 1, 65 do call:set("v" .. i, i) end`, "set: more than 64 variables"},
		{"sleep nothing", `call:sleep()`, "sleep: seconds must be a number between 0 and 3600, got nil"},
		{"sleep negative", `call:sleep(-1)`, "sleep: seconds must be a number between 0 and 3600, got -1"},
		{"sleep too long", `call:sleep(3601)`, "sleep: seconds must be a number between 0 and 3600"},
		{"sleep nan", `call:sleep(0/0)`, "sleep: seconds must be a number"},
		{"sleep string", `call:sleep("1")`, "sleep: seconds must be a number"},
		{"play second not a string", `call:play("a", 5)`, "play: prompt 2 must be a string, got number"},
		{"play empty table", `call:play({})`, "play: want 1 to 64 prompts, got 0"},
		{"play table with a number", `call:play({"a", 5})`, "play: prompt 2 must be a non-empty string"},
		{"play too many", `call:play(unpack((function() local t = {} for i = 1, 65 do t[i] = "a" end return t end)()))`, "play: want 1 to 64 prompts, got 65"},
		{"say_digits letters", `call:say_digits("12a")`, `say_digits: "12a": only digits 0-9 can be said`},
		{"say_digits empty", `call:say_digits("")`, "say_digits: want 1 to 64 digits, got 0"},
		{"say_digits negative", `call:say_digits(-5)`, "say_digits: want a string of digits or a whole number >= 0, got -5"},
		{"say_digits table", `call:say_digits({})`, "say_digits: want a string of digits, got table"},
		{"say_number fraction", `call:say_number(1.5)`, "say_number: want a whole number between -999999999 and 999999999, got 1.5"},
		{"say_number huge", `call:say_number(1e12)`, "say_number: want a whole number"},
		{"say_number string", `call:say_number("12")`, "say_number: want a whole number"},
		{"record nothing", `call:record()`, "record: name must be a string, got nil"},
		{"record path", `call:record("../etc/passwd")`, `record: name "../etc/passwd": want 1 to 64 letters`},
		{"record dir", `call:record("a/b")`, `record: name "a/b"`},
		{"record hidden", `call:record(".x")`, `record: name ".x"`},
		{"record only .wav", `call:record(".wav")`, `record: name ".wav"`},
		{"record max zero", `call:record("a", {max = 0})`, "record: max must be between 0 and 3600 seconds, got 0"},
		{"record max too long", `call:record("a", {max = 3601})`, "record: max must be between 0 and 3600 seconds"},
		{"record negative silence", `call:record("a", {silence = -1})`, "record: silence must be a number of seconds"},
		{"record bad terminator", `call:record("a", {terminator = "x"})`, `record: terminator "x": 'x' is not a DTMF digit`},
		{"record terminator number", `call:record("a", {terminator = 5})`, "record: terminator must be a string of DTMF digits"},
		{"record unknown option", `call:record("a", {maxlen = 5})`, "record: unknown option maxlen (known: max, silence, terminator)"},
		{"record options string", `call:record("a", "x")`, "record: options must be a table, got string"},
		{"record_call path", `call:record_call("../../etc/cron.d/x")`, `record_call: name "../../etc/cron.d/x": want 1 to 64 letters`},
		{"record_call absolute", `call:record_call("/tmp/x")`, `record_call: name "/tmp/x"`},
		{"record_call hidden", `call:record_call(".x")`, `record_call: name ".x"`},
		{"record_call number", `call:record_call(5)`, "record_call: name must be a string, got number"},
		{"bridge record not boolean", `call:bridge({"user/1002"}, {record = "yes"})`, "bridge: record must be a boolean, got yes"},
		{"bridge unknown option", `call:bridge({"user/1002"}, {recrod = true})`, "bridge: unknown option recrod (known: timeout, record)"},
		{"echo zero", `call:echo(0)`, "echo: seconds must be a number between 0 and 3600, got 0"},
		{"echo too long", `call:echo(3601)`, "echo: seconds must be a number between 0 and 3600, got 3601"},
		{"echo string", `call:echo("5")`, "echo: seconds must be a number between 0 and 3600, got 5"},
		{"echo nan", `call:echo(0/0)`, "echo: seconds must be a number"},
		{"conference no room", `call:conference()`, "conference: room must be a string, got nil"},
		{"conference path", `call:conference("../x")`, `conference: room "../x": want 1 to 64 letters`},
		{"conference slash", `call:conference("a/b")`, `conference: room "a/b"`},
		{"conference hidden", `call:conference(".a")`, `conference: room ".a"`},
		{"conference long", `call:conference(string.rep("a", 65))`, `conference: room "aaaa`},
		{"conference pin letters", `call:conference("a", {pin = "12a"})`, "conference: pin must be a string of at most 16 digits 0-9, got 12a"},
		{"conference pin fraction", `call:conference("a", {pin = 1.5})`, "conference: pin must be a string"},
		{"conference max zero", `call:conference("a", {max = 0})`, "conference: max must be a whole number between 1 and 500, got 0"},
		{"conference moderator string", `call:conference("a", {moderator = "yes"})`, "conference: moderator must be true or false, got yes"},
		{"conference unknown option", `call:conference("a", {recording = true})`, "conference: unknown option recording (known: pin, max, moderator, muted, gain, record)"},
		{"conference record string", `call:conference("a", {record = "yes"})`, "conference: record must be true or false, got yes"},
		{"conference gain zero", `call:conference("a", {gain = 0})`, "conference: gain must be a number above 0 and at most 4, got 0"},
		{"conference gain nan", `call:conference("a", {gain = 0/0})`, "conference: gain must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeScript(t, onCall(tt.body))
			err := dialplantest.Run(t, path, dialplantest.NewFakeSession("1001", "1002"))
			var serr *dialplan.ScriptError
			if !errors.As(err, &serr) || !errors.Is(err, dialplan.ErrScript) {
				t.Fatalf("Run = %v, want a script error", err)
			}
			if serr.Line != 2 || !strings.Contains(serr.Msg, tt.want) {
				t.Errorf("error = %s: %q, want line 2 and %q", serr.Where(), serr.Msg, tt.want)
			}
		})
	}
}

// call:sleep ends with the call: a hangup (the run's context ending)
// stops a long sleep at once.
func TestSleepEndsWithTheCall(t *testing.T) {
	e, _ := newEngine(t, onCall(`call:sleep(3600)`), dialplan.Config{}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.Run(ctx, dialplantest.NewFakeSession("1001", "1002"))
	if err == nil || errors.Is(err, dialplan.ErrScript) {
		t.Fatalf("Run = %v, want the call's context error", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("sleep went on %v after the call ended", d)
	}
}

// A session that cannot record gives a clear error, not a panic.
func TestRecordUnsupported(t *testing.T) {
	s := plainSession{dialplantest.NewFakeSession("1001", "1002")}
	e, _ := newEngine(t, onCall(`call:record("x")`), dialplan.Config{}, nil)
	err := e.Run(t.Context(), s)
	var serr *dialplan.ScriptError
	if !errors.As(err, &serr) || serr.Msg != "record: not supported by this call" {
		t.Fatalf("Run = %v, want record: not supported by this call", err)
	}
}

// call:record_call arms a recording (with the script's name or the
// session's) and returns its path; bridge {record = true} asks the same.
func TestRecordCall(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	path := writeScript(t, onCall(`local p = call:record_call("sales-1")
  local q = call:record_call()
  call:set("paths", p .. " " .. q)
  call:bridge({"user/1002"}, {record = true, timeout = 5})`))
	if err := dialplantest.Run(t, path, s); err != nil {
		t.Fatal(err)
	}
	want := []string{"record_call sales-1", "record_call ", "set paths=recordings/sales-1.wav recordings/call.wav", "bridge user/1002 timeout=5s record"}
	if got := s.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if got := s.Vars()["paths"]; got != "recordings/sales-1.wav recordings/call.wav" {
		t.Errorf("paths %q", got)
	}
	e, _ := newEngine(t, onCall(`call:record_call()`), dialplan.Config{}, nil)
	err := e.Run(t.Context(), plainSession{dialplantest.NewFakeSession("1001", "1002")})
	var serr *dialplan.ScriptError
	if !errors.As(err, &serr) || serr.Msg != "record_call: not supported by this call" {
		t.Fatalf("Run = %v, want record_call: not supported by this call", err)
	}
}

// plainSession hides FakeSession's optional methods (Record): only the
// Session interface's methods are promoted.
type plainSession struct{ dialplan.Session }
