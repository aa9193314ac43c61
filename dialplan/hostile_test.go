package dialplan_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// Scripts that abuse one builtin or the heap (issue 12, item 6): each
// must end its own call with a script error (a 500) and leave the process
// and its memory alone.

// runHostile runs body as on_call under cfg and returns Run's error, how
// long it took and how many bytes the process allocated meanwhile.
func runHostile(t *testing.T, body string, cfg dialplan.Config) (error, time.Duration, uint64) {
	t.Helper()
	e, _ := newEngine(t, onCall(body), cfg, nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := e.Run(t.Context(), dialplantest.NewFakeSession("1001", "1002"))
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return err, took, after.TotalAlloc - before.TotalAlloc
}

// TestCatastrophicPatternStopsAtBudget: string.find with a backtracking
// pattern ran for more than 7 minutes inside one builtin, out of reach of
// the budget; the call never got an answer.
func TestCatastrophicPatternStopsAtBudget(t *testing.T) {
	const budget = 300 * time.Millisecond
	for name, body := range map[string]string{
		"find":              `string.find(("a"):rep(800), ".-.-.-b")`,
		"match":             `call:set("m", tostring(("a"):rep(800):match(".-.-.-.-b")))`,
		"gsub":              `local s = ("a"):rep(800):gsub(".-.-.-b", "x")`,
		"gmatch":            `for w in ("a"):rep(800):gmatch(".-.-.-b") do end`,
		"under pcall, then": `pcall(string.find, ("a"):rep(800), ".-.-.-b") call:answer()`,
	} {
		t.Run(name, func(t *testing.T) {
			err, took, _ := runHostile(t, body, dialplan.Config{CPUBudget: budget, MaxDuration: time.Hour})
			if !errors.Is(err, dialplan.ErrBudget) || !errors.Is(err, dialplan.ErrScript) {
				t.Fatalf("Run = %v, want ErrBudget (a script error, answered 500)", err)
			}
			// Generous: a loaded machine; the bug ran for minutes.
			if took > budget+20*time.Second {
				t.Errorf("stopped after %v on a %v budget", took, budget)
			}
		})
	}
}

// TestReplacementGrowthBounded: s:gsub(".", s) with a 64 KiB s asked for
// 4 GiB in one call and killed the process (fatal error: out of memory).
func TestReplacementGrowthBounded(t *testing.T) {
	for name, body := range map[string]string{
		"gsub string":   `local s = ("x"):rep(65536) s:gsub(".", s)`,
		"gsub %0":       `local s = ("x"):rep(65536) s:gsub(".", ("%0"):rep(1000))`,
		"gsub function": `local s = ("x"):rep(65536) s:gsub(".", function() return s end)`,
		"gsub table":    `local s = ("x"):rep(65536) s:gsub(".", {x = s})`,
		"rep":           `local s = ("x"):rep(65536):rep(65536)`,
		"format width":  `string.format("%999999d", 1)`,
		"format many":   `string.format(("%99d"):rep(20000), 1)`,
	} {
		t.Run(name, func(t *testing.T) {
			err, _, alloc := runHostile(t, body, dialplan.Config{CPUBudget: time.Minute})
			if !errors.Is(err, dialplan.ErrScript) {
				t.Fatalf("Run = %v, want a script error", err)
			}
			if alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// TestMemoryCeiling: a call's Lua state may hold MaxMemory, whatever
// builds it: one call built 1 GB of tables within its CPU budget.
func TestMemoryCeiling(t *testing.T) {
	const limit = 4 << 20
	for name, body := range map[string]string{
		"tables":          `local t = {} while true do t[#t + 1] = {1, 2, 3, 4, 5, 6, 7, 8} end`,
		"nested tables":   `local t = {} while true do t = {t, t} end`,
		"array":           `local t = {} local i = 0 while true do i = i + 1 t[i] = i end`,
		"strings in keys": `local t = {} local i = 0 while true do i = i + 1 t["k" .. i] = true end`,
		"doubling string": `local s = "x" while true do s = s .. s end`,
		"wide concat":     `local s = ("x"):rep(2^19) while true do s = s .. s .. s .. s .. s .. s .. s .. s end`,
		"big strings":     `local t, s = {}, ("x"):rep(2^19) local i = 0 while true do i = i + 1 t[i] = s .. i end`,
		"global":          `big = {} local i = 0 while true do i = i + 1 big[i] = {} end`,
		"upvalue":         `local t = {} local function add() t[#t + 1] = {} end while true do add() end`,
		"under pcall":     `pcall(function() local t = {} while true do t[#t + 1] = {} end end) call:answer()`,
	} {
		t.Run(name, func(t *testing.T) {
			err, _, alloc := runHostile(t, body, dialplan.Config{CPUBudget: time.Minute, MaxMemory: limit})
			if !errors.Is(err, dialplan.ErrMemory) || !errors.Is(err, dialplan.ErrScript) {
				t.Fatalf("Run = %v, want ErrMemory", err)
			}
			if alloc > 256<<20 {
				t.Errorf("allocated %d MiB on a %d MiB limit", alloc>>20, limit>>20)
			}
		})
	}
}

// TestMemoryCeilingLeavesRoom: a script that stays within its limit, even
// one that allocates a lot over time, is not stopped.
func TestMemoryCeilingLeavesRoom(t *testing.T) {
	err, _, _ := runHostile(t, `local keep = {}
for i = 1, 20000 do keep[i] = ("x"):rep(100) .. i end
local s = ("y"):rep(2^20)
for i = 1, 100 do local garbage = s:sub(2) .. "z" end
call:set("n", #keep)`, dialplan.Config{CPUBudget: time.Minute, MaxMemory: 16 << 20})
	if err != nil {
		t.Fatalf("Run = %v, want no error", err)
	}
}

// TestLogOutputCapped: print and log.* write at most a bounded amount per
// call, and say so once.
func TestLogOutputCapped(t *testing.T) {
	log, buf := newLogger()
	e, _ := newEngine(t, onCall(`local line = ("x"):rep(2^20)
for i = 1, 2000 do print(line) log.error(line, line) end
call:answer()`), dialplan.Config{CPUBudget: time.Minute}, log)
	s := dialplantest.NewFakeSession("1001", "1002")
	if err := e.Run(t.Context(), s); err != nil {
		t.Fatalf("Run = %v", err)
	}
	out := buf.String()
	if len(out) > 256<<10 {
		t.Errorf("logged %d KiB for one call", len(out)>>10)
	}
	if n := strings.Count(out, "log output limit"); n != 1 {
		t.Errorf("limit reported %d times, want once:\n%.2000s", n, out)
	}
}

// TestHangupStopsStuckBuiltin: the call's context ending (a hangup, or
// SIGINT cutting every call) stops a script inside a long builtin, far
// from its budget.
func TestHangupStopsStuckBuiltin(t *testing.T) {
	e, _ := newEngine(t, onCall(`string.find(("a"):rep(800), ".-.-.-b")`), dialplan.Config{CPUBudget: time.Hour, MaxDuration: time.Hour}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := e.Run(ctx, dialplantest.NewFakeSession("1001", "1002"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, dialplan.ErrScript) {
		t.Fatalf("Run = %v, want context.Canceled and no script error", err)
	}
	if took := time.Since(start); took > 20*time.Second { // generous: the bug ran for minutes
		t.Errorf("stopped after %v", took)
	}
}
