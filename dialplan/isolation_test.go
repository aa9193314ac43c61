package dialplan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// isolationScript: a call to 1 changes every library and global it can
// reach, then waits bridged; a call to 2 reports what it sees.
const isolationScript = `function on_call(call)
  if call.destination == "1" then
    secret = "a"
    pcall(function() getmetatable(string).__index.upper = function() return "patched" end end)
    pcall(function() getmetatable(_G).__index.tostring = function() return "patched" end end)
    pcall(function() getmetatable(table).__index.insert = nil end)
    call:set("getmetatable", tostring(getmetatable(string)) .. "," .. tostring(getmetatable(_G)) .. "," .. tostring(getmetatable(math)))
    call:set("setmetatable", tostring(pcall(setmetatable, string, getmetatable(string))) .. "," ..
      tostring(pcall(setmetatable, _G, getmetatable(_G))))
    string.upper = function() return "patched" end
    rawset(string, "lower", function() return "patched" end)
    getmetatable("").__index.rep = function() return "patched" end
    math.floor = function() return -1 end
    table.insert = function() error("patched") end
    _G.tostring = function() return "patched" end
    print = 5
    log.info = function() error("patched") end
    pcall(function() getmetatable(log).__index.warn = nil end)
    pairs = function() error("patched") end
    os.time = function() return -1 end
    pcall(function() getmetatable(os).__index.clock = nil end)
    trunk.up = function() return "patched" end
    pcall(function() getmetatable(trunk).__index.up = nil end)
    call:set("own", string.upper("x") .. string.lower("x") .. ("x"):rep(2) .. tostring(1) .. math.floor(1.5) .. type(print))
    call:bridge("user/1002")
    return
  end
  log.info("call B logs")
  log.warn("call B warns")
  local n = 0
  for _ in pairs({1, 2}) do n = n + 1 end
  local t = {}
  table.insert(t, "v")
  call:set("seen", tostring(secret) .. " " .. string.upper("x") .. ("y"):upper() .. string.lower("X") ..
    ("x"):rep(2) .. " " .. math.floor(1.5) .. " " .. tostring(7) .. " " .. n .. " " .. type(print) .. " " .. t[1] ..
    " " .. tostring(os.time() > 0) .. " " .. type(os.clock) .. " " .. type(trunk.up))
end
`

// A call's changes to globals and to the string, table, math, log, os
// and trunk libraries stay in its own state, even while it is alive next to
// another call: the states share the library tables underneath, which no
// script can reach or change.
func TestCallsDoNotSeeEachOther(t *testing.T) {
	e, _ := newEngine(t, isolationScript, dialplan.Config{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a := dialplantest.NewFakeSession("1001", "1")
	a.Bridges = []dialplantest.BridgeResult{{OK: true, Delay: time.Hour}}
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, a) }()
	deadline := time.Now().Add(20 * time.Second)
	for a.Vars()["own"] == "" {
		if time.Now().After(deadline) {
			t.Fatal("call A never reached its bridge")
		}
		select {
		case err := <-done:
			t.Fatalf("call A ended early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	for k, want := range map[string]string{
		"own":          "patchedpatchedpatchedpatched-1number",
		"setmetatable": "false,false",
		"getmetatable": "false,false,false",
	} {
		if got := a.Vars()[k]; got != want {
			t.Errorf("call A: %s = %q, want %q", k, got, want)
		}
	}
	for range 2 { // while A is alive, and after a call that ran beside it
		b := dialplantest.NewFakeSession("1001", "2")
		if err := e.Run(t.Context(), b); err != nil {
			t.Fatalf("call B: %v", err)
		}
		if got, want := b.Vars()["seen"], "nil XYxxx 1 7 2 function v true function function"; got != want {
			t.Errorf("call B sees %q, want %q", got, want)
		}
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("call A: Run = nil after its call ended")
	}
}

// Calls running at once read the shared library tables together while
// each changes its own view of them: the race detector checks that the
// sharing is read-only underneath, and each call sees only its changes.
func TestConcurrentCallsShareLibrarySafely(t *testing.T) {
	e, _ := newEngine(t, `function on_call(call)
  local me = call.caller
  string.tag = function() return me end
  local acc = {}
  for i = 1, 50 do
    table.insert(acc, string.format("%s%d", ("x"):upper(), math.floor(i / 2)))
  end
  call:set("seen", string.tag() .. " " .. #table.concat(acc) .. " " .. tostring(rawget(string, "upper")))
end
`, dialplan.Config{}, nil)
	const workers, runs = 8, 20
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			caller := fmt.Sprintf("10%02d", w)
			for range runs {
				s := dialplantest.NewFakeSession(caller, "1002")
				if err := e.Run(t.Context(), s); err != nil {
					errs <- err
					return
				}
				if got, want := s.Vars()["seen"], caller+" 131 nil"; got != want {
					errs <- fmt.Errorf("call from %s saw %q, want %q", caller, got, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// A state that ran a call to the end goes on to the next call (issue
// 20), with a new sandbox: a call that changed every library and global
// it could reach and then returned, or was hung up while bridged, leaves
// nothing the next call can see.
func TestReusedStateIsClean(t *testing.T) {
	for _, hangup := range []bool{false, true} {
		t.Run(fmt.Sprint("hangup=", hangup), func(t *testing.T) { testReusedState(t, hangup) })
	}
}

func testReusedState(t *testing.T, hangup bool) {
	script := isolationScript
	if !hangup {
		script = strings.Replace(script, `call:bridge("user/1002")`, "", 1)
	}
	e, _ := newEngine(t, script, dialplan.Config{}, nil)
	for i := range 10 {
		a := dialplantest.NewFakeSession("1001", "1")
		ctx, cancel := context.WithCancel(t.Context())
		if hangup { // once it waits in its bridge
			a.Bridges = []dialplantest.BridgeResult{{OK: true, Delay: time.Hour}}
			go func() {
				defer cancel()
				for deadline := time.Now().Add(20 * time.Second); a.Vars()["own"] == "" && ctx.Err() == nil && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			}()
		}
		err := e.Run(ctx, a)
		cancel()
		if hangup != (err != nil) {
			t.Fatalf("call %d to 1: %v", i, err)
		}
		if got, want := a.Vars()["own"], "patchedpatchedpatchedpatched-1number"; got != want {
			t.Fatalf("call %d to 1: own = %q, want %q", i, got, want)
		}
		b := dialplantest.NewFakeSession("1001", "2")
		if err := e.Run(t.Context(), b); err != nil {
			t.Fatalf("call %d to 2: %v", i, err)
		}
		if got, want := b.Vars()["seen"], "nil XYxxx 1 7 2 function v true function function"; got != want {
			t.Fatalf("call %d to 2 after a call that changed everything sees %q, want %q", i, got, want)
		}
	}
}
