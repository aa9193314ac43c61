package dialplan_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestCallAPI(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		setup func(s *dialplantest.FakeSession)
		want  []string
	}{
		{
			name: "fields",
			body: `call:set("f", table.concat({call.id, call.caller, call.caller_name, call.destination, call.source, call.transport}, ","))`,
			setup: func(s *dialplantest.FakeSession) {
				s.Call.CallerName = "Alice"
			},
			want: []string{"set f=test-call,1001,Alice,1002,192.0.2.10:5060,udp"},
		},
		{
			name: "header",
			body: `call:set("h", call:header("x-foo")); call:set("none", tostring(call:header("X-None")))`,
			setup: func(s *dialplantest.FakeSession) {
				s.Headers = map[string]string{"X-Foo": "bar"}
			},
			want: []string{"set h=bar", "set none=nil"},
		},
		{
			name: "ring answer play hangup",
			body: `call:ring(); call:answer(); call:play("/var/lib/softswitch/hello.wav"); call:hangup()`,
			want: []string{"ring", "answer", "play /var/lib/softswitch/hello.wav", "hangup normal"},
		},
		{
			name: "collect",
			body: `local d = call:collect{max = 4, timeout = 5, terminator = "#", prompt = "enter-pin"}
call:set("pin", d)
call:set("next", call:collect())`,
			setup: func(s *dialplantest.FakeSession) {
				s.Digits = []string{"1234"}
			},
			want: []string{"collect max=4 timeout=5s terminator=# prompt=enter-pin", "set pin=1234", "collect", "set next="},
		},
		{
			name: "bridge forks and fractional timeout",
			body: `local ok = call:bridge({"user/1002", "trunk/carrier/+4930123"}, {timeout = 1.5}); call:set("ok", tostring(ok))`,
			want: []string{"bridge user/1002,trunk/carrier/+4930123 timeout=1.5s", "set ok=true"},
		},
		{
			name: "trunk fields and fallback",
			body: `call:set("from", call.trunk)
if trunk.up("primary") then call:set("via", "primary") else call:set("via", "backup") end
call:set_caller("+4930123", "Front Desk")
call:set_caller("0301")`,
			setup: func(s *dialplantest.FakeSession) {
				s.Call.Trunk = "carrier"
				s.Trunks = map[string]bool{"primary": false}
			},
			want: []string{"set from=carrier", "set via=backup", "set_caller +4930123 Front Desk", "set_caller 0301 "},
		},
		{
			name: "bridge failure returns nil and reason",
			body: `local ok, why = call:bridge("user/1002"); call:set("r", tostring(ok) .. ":" .. why)`,
			setup: func(s *dialplantest.FakeSession) {
				s.Bridges = []dialplantest.BridgeResult{{Reason: "busy"}}
			},
			want: []string{"bridge user/1002", "set r=nil:busy"},
		},
		{
			name: "hangup with a SIP code",
			body: `call:hangup(486)`,
			want: []string{"hangup 486"},
		},
		{
			name: "set numbers and booleans",
			body: `call:set("n", 42); call:set("b", false); call:set("f", 1.5)`,
			want: []string{"set n=42", "set b=false", "set f=1.5"},
		},
		{
			name: "tostring",
			body: `call:set("s", tostring(call)); call:set("mt", tostring(getmetatable(call)))`,
			want: []string{"set s=call test-call", "set mt=call"},
		},
		{
			name: "pcall catches a bad argument",
			body: `local ok, err = pcall(call.bridge, call, 42); call:set("ok", tostring(ok))`,
			want: []string{"set ok=false"},
		},
		{
			name: "harmless collectgarbage",
			body: `call:set("gc", collectgarbage("count"))`,
			want: []string{"set gc=0"},
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

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name string
		body string // on line 2
		want string
	}{
		{"bridge number", `call:bridge(42)`, "bridge: targets must be a string or an array of strings"},
		{"bridge nothing", `call:bridge()`, "bridge: targets must be a string or an array of strings, e.g. \"user/1001\" or {\"user/1001\", \"user/1002\"}, got nil"},
		{"bridge empty array", `call:bridge({})`, "bridge: targets must hold 1 to 64 strings, got 0"},
		{"bridge empty target", `call:bridge("")`, "bridge: target must not be empty"},
		{"bridge non-string target", `call:bridge({"user/1", 5})`, "bridge: target 2 must be a non-empty string"},
		{"bridge negative timeout", `call:bridge("user/1", {timeout = -1})`, "bridge: timeout must be a number of seconds"},
		{"bridge string timeout", `call:bridge("user/1", {timeout = "30"})`, "bridge: timeout must be a number of seconds"},
		{"bridge unknown option", `call:bridge("user/1", {ring = 30})`, "bridge: unknown option ring"},
		{"bridge options not a table", `call:bridge("user/1", 30)`, "bridge: options must be a table, got number"},
		{"collect string", `call:collect("x")`, "collect: options must be a table, got string"},
		{"collect unknown option", `call:collect{maxdigits = 4}`, "collect: unknown option maxdigits"},
		{"collect max zero", `call:collect{max = 0}`, "collect: max must be a whole number"},
		{"collect max fraction", `call:collect{max = 1.5}`, "collect: max must be a whole number"},
		{"collect negative timeout", `call:collect{timeout = -5}`, "collect: timeout must be a number of seconds"},
		{"collect nan timeout", `call:collect{timeout = 0/0}`, "collect: timeout must be a number of seconds"},
		{"collect terminator", `call:collect{terminator = "##"}`, "collect: terminator must be one of"},
		{"collect prompt", `call:collect{prompt = 5}`, "collect: prompt must be a string"},
		{"play nothing", `call:play()`, "play: prompt must be a string, got nil"},
		{"play empty", `call:play("")`, "play: prompt must not be empty"},
		{"header number", `call:header(5)`, "header: name must be a string, got number"},
		{"hangup table", `call:hangup({})`, "hangup: cause must be a string or a SIP status code, got table"},
		{"hangup 200", `call:hangup(200)`, "hangup: cause must be a SIP status code 400-699, got 200"},
		{"set no value", `call:set("x")`, "set: value must be a string, number or boolean, got nil"},
		{"set no name", `call:set(nil, "x")`, "set: name must be a string, got nil"},
		{"dot instead of colon", `call.answer()`, "answer: call it as call:answer(...), not call.answer(...)"},
		{"unknown field", `local x = call.destinaton`, `call has no field or method "destinaton"`},
		{"read-only field", `call.caller = "1003"`, "call.caller is read-only"},
		{"set_caller letters", `call:set_caller("alice")`, `set_caller: number "alice": want digits`},
		{"set_caller quote", `call:set_caller("1", "a\"b")`, "set_caller: name"},
		{"set_caller name table", `call:set_caller("1", {})`, "set_caller: name must be a string, got table"},
		{"trunk.up unknown", `trunk.up("nope")`, `trunk.up: no trunk "nope"`},
		{"trunk.up nothing", `trunk.up()`, "trunk.up: name must be a string, got nil"},
		{"error", `error("boom")`, "boom"},
		{"error without position", `error("boom", 0)`, "boom"},
		{"error with a table", `error({})`, "table: "},
		{"nil call", `local f; f()`, "attempt to call a non-function object"},
		{"string.rep too large", `local s = string.rep("x", 2^30)`, "string.rep: result larger than 1048576 bytes"},
		{"stack overflow", `local function f() return 1 + f() end f()`, "stack overflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeScript(t, onCall(tt.body))
			err := dialplantest.Run(t, path, dialplantest.NewFakeSession("1001", "1002"))
			var serr *dialplan.ScriptError
			if !errors.As(err, &serr) || !errors.Is(err, dialplan.ErrScript) || errors.Is(err, dialplan.ErrBudget) {
				t.Fatalf("Run = %v, want a script error", err)
			}
			if serr.File != path || serr.Line != 2 {
				t.Errorf("position = %s, want %s:2", serr.Where(), path)
			}
			if !strings.Contains(serr.Msg, tt.want) {
				t.Errorf("message = %q, want it to contain %q", serr.Msg, tt.want)
			}
			if !strings.Contains(err.Error(), path+":2: ") {
				t.Errorf("error %q lacks %s:2", err, path)
			}
		})
	}
}

func TestSessionErrors(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	s.Errors = map[string]error{"play": errors.New("no such prompt")}
	err := dialplantest.Run(t, writeScript(t, onCall(`call:answer()
call:play("nope")`)), s)
	var serr *dialplan.ScriptError
	if !errors.As(err, &serr) || serr.Line != 3 || serr.Msg != "play: no such prompt" {
		t.Fatalf("Run = %v, want a script error at line 3 with play: no such prompt", err)
	}
}

func TestPrintAndLogGoToTheLogger(t *testing.T) {
	log, buf := newLogger()
	e, path := newEngine(t, onCall(`print("hello", 42, nil)
log.warn("careful")
log.error("bad", call.destination)
log.debug("details")
log.info("done")`), dialplan.Config{}, log)
	if err := e.Run(t.Context(), dialplantest.NewFakeSession("1001", "1002")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg="hello 42 nil" call_id=test-call at=` + path + `:2`,
		`level=WARN msg=careful call_id=test-call at=` + path + `:3`,
		`level=ERROR msg="bad 1002" call_id=test-call at=` + path + `:4`,
		`level=DEBUG msg=details call_id=test-call at=` + path + `:5`,
		`level=INFO msg=done call_id=test-call at=` + path + `:6`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
