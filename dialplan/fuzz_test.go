package dialplan_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// FuzzScript compiles and runs arbitrary Lua against a fake call with
// small limits: it must never panic or hang, and any error must be a
// script error.
func FuzzScript(f *testing.F) {
	shipped, err := os.ReadFile(shippedScript)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(shipped),
		onCall(`call:answer(); call:play("test-audio"); call:hangup()`),
		onCall(`while true do end`),
		onCall(`call:bridge(42)`),
		onCall(`call:collect("x")`),
		onCall(`local d = call:collect{max = 4, timeout = 1, terminator = "#", prompt = "p"} call:set("d", d)`),
		onCall(`local ok, why = call:bridge({"user/" .. call.destination}, {timeout = 30}) if not ok then call:hangup(why) end`),
		onCall(`error(setmetatable({}, {__tostring = function() while true do end end}))`),
		onCall(`local t = {} for i = 1, 1e5 do t[i] = tostring(i) end call:set("n", #table.concat(t))`),
		onCall(`local function f(n) return f(n + 1) end f(1)`),
		onCall(`pcall(call.hangup, call, 999) call:hangup("busy")`),
		onCall(`getmetatable(call).__index = nil`),
		"function on_call(call) end while true do end",
		"return",
		"on_call = print",
		"x = = 1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		path := filepath.Join(t.TempDir(), "fuzz.lua")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := dialplan.Config{Path: path, CPUBudget: 100 * time.Millisecond, MaxDuration: time.Second}
		start := time.Now()
		e, err := dialplan.New(cfg, discard())
		if err != nil {
			if !errors.Is(err, dialplan.ErrScript) {
				t.Fatalf("New = %v, want a script error", err)
			}
			return
		}
		s := dialplantest.NewFakeSession("1001", "1002")
		s.Digits = []string{"1234"}
		s.Bridges = []dialplantest.BridgeResult{{Reason: "busy"}}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err = e.Run(ctx, s)
		if err != nil && !errors.Is(err, dialplan.ErrScript) {
			t.Fatalf("Run = %v, want nil or a script error", err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("New and Run took %v", took)
		}
	})
}
