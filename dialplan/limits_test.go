package dialplan_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestCPUBudget(t *testing.T) {
	const budget = 200 * time.Millisecond
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"loop in on_call", onCall("call:answer()\nwhile true do end"), 3},
		{"loop after a blocking call", onCall("call:play(\"x\")\nlocal n = 0\nwhile true do n = n + 1 end"), 4},
		{"pcall cannot swallow it", onCall("while true do pcall(function() while true do end end) end"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, path := newEngine(t, tt.src, dialplan.Config{CPUBudget: budget}, nil)
			start := time.Now()
			err := e.Run(t.Context(), dialplantest.NewFakeSession("1001", "1002"))
			took := time.Since(start)
			var serr *dialplan.ScriptError
			if !errors.Is(err, dialplan.ErrBudget) || !errors.Is(err, dialplan.ErrScript) || !errors.As(err, &serr) {
				t.Fatalf("Run = %v, want ErrBudget", err)
			}
			if serr.Line != tt.line || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d:", path, tt.line)) {
				t.Errorf("error %q, want position %s:%d", err, path, tt.line)
			}
			if took < budget || took > budget+5*time.Second { // loose: loaded CI machines
				t.Errorf("stopped after %v, want about %v", took, budget)
			}
		})
	}
}

// TestBudgetCoversLibraryCalls: library functions that push a value per
// table element run without the budget's check between instructions; they
// must stay fast (the registry grew 32 slots at a time, copied each time:
// table.concat of 120000 strings took 24 s on a 2 s budget).
func TestBudgetCoversLibraryCalls(t *testing.T) {
	const budget = 2 * time.Second
	fill := `local t = {} for i = 1, 60000 do t[i] = "x" end `
	big := `local t = {} for i = 1, 120000 do t[i] = "x" end `
	for name, src := range map[string]string{
		"table.concat":         big + `call:set("n", #table.concat(t, ","))`,
		"unpack":               fill + `call:set("n", select("#", unpack(t)))`,
		"unpack past registry": big + `call:set("n", select("#", unpack(t)))`,
		"string.byte":          `call:set("n", select("#", string.byte(string.rep("x", 200000), 1, -1)))`,
	} {
		t.Run(name, func(t *testing.T) {
			e, _ := newEngine(t, onCall(src), dialplan.Config{CPUBudget: budget, MaxDuration: time.Minute}, nil)
			start := time.Now()
			err := e.Run(t.Context(), dialplantest.NewFakeSession("1001", "1002"))
			if err != nil && !errors.Is(err, dialplan.ErrScript) { // registry overflow, budget
				t.Fatalf("Run = %v, want nil or a script error", err)
			}
			if took := time.Since(start); took > budget+5*time.Second { // loose: loaded CI machines
				t.Errorf("ran for %v on a %v budget", took, budget)
			}
		})
	}
}

func TestBudgetExcludesBlockingCalls(t *testing.T) {
	e, _ := newEngine(t, onCall(`call:answer()
call:play("long-1")
call:play("long-2")
call:hangup()`), dialplan.Config{CPUBudget: 250 * time.Millisecond}, nil)
	s := dialplantest.NewFakeSession("1001", "1002")
	s.PlayDelay = 600 * time.Millisecond // each play is more than 2 budgets long
	if err := e.Run(t.Context(), s); err != nil {
		t.Fatalf("Run = %v, want no error: blocking time must not count", err)
	}
	want := []string{"answer", "play long-1", "play long-2", "hangup normal"}
	if got := s.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}

func TestHangupStopsScript(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		setup func(s *dialplantest.FakeSession)
	}{
		{"while blocked in play", `call:answer(); call:play("long")`, func(s *dialplantest.FakeSession) { s.PlayDelay = time.Hour }},
		{"while running Lua", `while true do end`, nil},
		{"pcall around play cannot continue", `pcall(call.play, call, "long"); while true do end`, func(s *dialplantest.FakeSession) { s.PlayDelay = time.Hour }},
		{"while ringing a bridge", `call:bridge("user/1002")`, func(s *dialplantest.FakeSession) {
			s.Bridges = []dialplantest.BridgeResult{{Delay: time.Hour}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, onCall(tt.body), dialplan.Config{CPUBudget: time.Minute}, nil)
			s := dialplantest.NewFakeSession("1001", "1002")
			if tt.setup != nil {
				tt.setup(s)
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			err := e.Run(ctx, s)
			if !errors.Is(err, context.Canceled) || errors.Is(err, dialplan.ErrScript) {
				t.Fatalf("Run = %v, want context.Canceled and no script error", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("stopped after %v", took)
			}
		})
	}
}

func TestSessionReportsCallGone(t *testing.T) {
	// The session says the call is gone although Run's context is alive
	// (the b2bua's own context ended): the script stops, even under pcall.
	e, _ := newEngine(t, onCall(`pcall(call.play, call, "x")
while true do end`), dialplan.Config{CPUBudget: time.Minute}, nil)
	s := dialplantest.NewFakeSession("1001", "1002")
	s.Errors = map[string]error{"play": fmt.Errorf("call test-call: %w", context.Canceled)}
	err := e.Run(t.Context(), s)
	if !errors.Is(err, context.Canceled) || errors.Is(err, dialplan.ErrScript) {
		t.Fatalf("Run = %v, want context.Canceled and no script error", err)
	}
}

func TestMaxDuration(t *testing.T) {
	e, path := newEngine(t, onCall(`call:answer()
call:play("forever")`), dialplan.Config{MaxDuration: 200 * time.Millisecond}, nil)
	s := dialplantest.NewFakeSession("1001", "1002")
	s.PlayDelay = time.Hour
	err := e.Run(t.Context(), s)
	var serr *dialplan.ScriptError
	if !errors.Is(err, dialplan.ErrMaxDuration) || !errors.Is(err, dialplan.ErrScript) || !errors.As(err, &serr) {
		t.Fatalf("Run = %v, want ErrMaxDuration", err)
	}
	if serr.Where() != path+":3" {
		t.Errorf("position = %s, want %s:3", serr.Where(), path)
	}
}
