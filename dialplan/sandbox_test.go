package dialplan_test

import (
	"testing"
	"time"

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
		`_G.os.execute`,
		`os.remove("/tmp/x")`,
		`os.rename("/tmp/x", "/tmp/y")`,
		`os.tmpname()`,
		`os.setlocale("C")`,
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

// table.concat is the sandbox's own: linear, size-limited, and otherwise
// as Lua 5.1 defines it.
func TestTableConcat(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	// A budget far above the work: this test is about results, not time.
	e, _ := newEngine(t, onCall(`local big = {} for i = 1, 20000 do big[i] = tostring(i) end
call:set("big", #table.concat(big))
call:set("sep", table.concat({1, "a", 2.5}, "-"))
call:set("range", table.concat({"a", "b", "c", "d"}, ",", 2, 3))
call:set("empty", "[" .. table.concat({}, ",") .. "]" .. table.concat({"a"}, ",", 3))
call:set("bad", tostring(pcall(table.concat, {"a", {}})))
call:set("huge", tostring(pcall(table.concat, {string.rep("x", 2^19), string.rep("x", 2^19), "x"})))`),
		dialplan.Config{CPUBudget: time.Minute}, nil)
	if err := e.Run(t.Context(), s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]string{"big": "88894", "sep": "1-a-2.5", "range": "b,c", "empty": "[]", "bad": "false", "huge": "false"}
	for k, v := range want {
		if got := s.Vars()[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// The main chunk builds no Lua 5.0 "arg" table (issue 20): at its top
// level "arg" is an ordinary (absent) global, as it always was, and a
// nested vararg function still has its own.
func TestVarargArgTable(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	path := writeScript(t, `top = tostring(arg) .. " " .. select("#", ...)
local function f(...) return arg.n .. " " .. tostring(arg[2]) end
function on_call(call)
  call:set("top", top)
  call:set("nested", f("a", "b", "c"))
end
`)
	if err := dialplantest.Run(t, path, s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := s.Vars()["top"]; got != "nil 0" {
		t.Errorf("main chunk: arg, select('#', ...) = %q, want \"nil 0\"", got)
	}
	if got := s.Vars()["nested"]; got != "3 b" {
		t.Errorf("nested vararg function: arg.n, arg[2] = %q, want \"3 b\"", got)
	}
}
