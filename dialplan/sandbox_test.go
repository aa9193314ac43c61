package dialplan_test

import (
	"testing"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestSandboxRefusesEscapes(t *testing.T) {
	tests := []string{
		`os.execute("true")`,
		`os.exit(1)`,
		`os.getenv("HOME")`,
		`io.open("/etc/passwd")`,
		`io.write("x")`,
		`require("os")`,
		`dofile("/etc/passwd")`,
		`loadfile("/etc/passwd")`,
		`loadstring("return 1")`,
		`load(function() return nil end)`,
		`module("x")`,
		`debug.getinfo(1)`,
		`debug.sethook()`,
		`package.loaded`,
		`string.dump(print)`,
		`("x").dump`,
		`getmetatable("").__index.dump`,
		`getfenv(1)`,
		`setfenv(1, {})`,
		`newproxy()`,
		`_printregs()`,
		`coroutine.create(print)`,
		`channel.make()`,
		`rawget(_G, "io")`,
		`_G.os`,
		`string.rep("x", 2^21)`,
		`math.randomseed(1)`,
	}
	for _, expr := range tests {
		t.Run(expr, func(t *testing.T) {
			s := dialplantest.NewFakeSession("1001", "1002")
			path := writeScript(t, onCall(`local ok, v = pcall(function() return `+expr+` end)
call:set("result", (ok and v ~= nil) and ("escaped: " .. tostring(v)) or "refused")`))
			if err := dialplantest.Run(t, path, s); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := s.Vars()["result"]; got != "refused" {
				t.Errorf("%s: %s", expr, got)
			}
		})
	}
}

func TestFreshStatePerCall(t *testing.T) {
	e, _ := newEngine(t, `counter = 0
function on_call(call)
  counter = counter + 1
  string.upper = function() return "patched" end
  call:set("n", counter)
end
`, dialplan.Config{}, nil)
	for range 3 {
		s := dialplantest.NewFakeSession("1001", "1002")
		if err := e.Run(t.Context(), s); err != nil {
			t.Fatal(err)
		}
		if got := s.Vars()["n"]; got != "1" {
			t.Fatalf("counter = %s, want 1: state leaked between calls", got)
		}
	}
}
