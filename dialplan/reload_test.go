package dialplan_test

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestNewRejectsBrokenScripts(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // after "dialplan: compile error: PATH"
	}{
		{"syntax error", "function on_call(call)\n  call:answer(\nend\n", `:3: near "end": syntax error`},
		{"unterminated string", "function on_call(call)\n  call:play('x)\nend\n", `:2: near "x)": unterminated string`},
		{"missing end", "function on_call(call)\n  call:answer()\n", ":2: at end of file: syntax error"},
		{"break outside loop", "function on_call(call)\n  break\nend\n", ":2: no loop to break"},
		{"no on_call", "function on_cal(call) end\n", ": no global function on_call"},
		{"on_call not a function", "on_call = 42\n", ": no global function on_call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeScript(t, tt.src)
			for what, err := range map[string]error{
				"New":   newErr(path),
				"Check": dialplan.Check(path),
			} {
				var serr *dialplan.ScriptError
				if !errors.Is(err, dialplan.ErrCompile) || !errors.Is(err, dialplan.ErrScript) || !errors.As(err, &serr) {
					t.Fatalf("%s = %v, want ErrCompile", what, err)
				}
				if want := path + tt.want; !strings.Contains(err.Error(), want) {
					t.Errorf("%s = %q, want it to contain %q", what, err, want)
				}
			}
		})
	}
}

func newErr(path string) error {
	_, err := dialplan.New(dialplan.Config{Path: path}, nil)
	return err
}

func TestNewRejectsFailingTopLevel(t *testing.T) {
	path := writeScript(t, "function on_call(call) end\nlocal x = nil .. 1\n")
	err := newErr(path)
	var serr *dialplan.ScriptError
	if !errors.As(err, &serr) || !errors.Is(err, dialplan.ErrScript) || serr.Where() != path+":2" {
		t.Fatalf("New = %v, want a script error at %s:2", err, path)
	}
}

func TestNewAndCheckMissingFile(t *testing.T) {
	path := t.TempDir() + "/none.lua"
	if err := newErr(path); !errors.Is(err, os.ErrNotExist) || errors.Is(err, dialplan.ErrScript) {
		t.Errorf("New = %v, want not exist", err)
	}
	if err := dialplan.Check(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Check = %v, want not exist", err)
	}
}

func TestConfigRejectsNegativeDurations(t *testing.T) {
	path := writeScript(t, "function on_call(call) end\n")
	for _, cfg := range []dialplan.Config{
		{Path: path, CPUBudget: -time.Second},
		{Path: path, MaxDuration: -time.Second},
	} {
		if _, err := dialplan.New(cfg, nil); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// hangupScript hangs up with cause, so runs show which version ran.
func hangupScript(cause string) string {
	return onCall(fmt.Sprintf("call:hangup(%q)", cause))
}

func TestLiveReload(t *testing.T) {
	log, buf := newLogger()
	e, path := newEngine(t, hangupScript("busy"), dialplan.Config{CPUBudget: 100 * time.Millisecond}, log)
	steps := []struct {
		name     string
		src      string // "" keeps the file, "-" deletes it
		want     string
		rejected int // "change rejected" log lines so far
	}{
		{"first version", "", "hangup busy", 0},
		{"edit", hangupScript("declined"), "hangup declined", 0},
		{"broken edit keeps the last good", "function on_call(call)\n  call:hangup(\nend\n", "hangup declined", 1},
		{"broken edit is logged once", "", "hangup declined", 1},
		{"top-level loop rejected by the budget", "while true do end\nfunction on_call(call) end\n", "hangup declined", 2},
		{"fix", hangupScript("not-found"), "hangup not-found", 2},
		{"deleted file keeps the last good", "-", "hangup not-found", 2},
		{"restored", hangupScript("busy"), "hangup busy", 2},
	}
	for i, step := range steps {
		switch step.src {
		case "":
		case "-":
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		default:
			rewriteScript(t, path, step.src, i+1)
		}
		for range 2 {
			s := dialplantest.NewFakeSession("1001", "1002")
			if err := e.Run(t.Context(), s); err != nil {
				t.Fatalf("%s: Run: %v", step.name, err)
			}
			if got := s.Calls(); !slices.Equal(got, []string{step.want}) {
				t.Fatalf("%s: calls = %q, want %q", step.name, got, step.want)
			}
		}
		if n := strings.Count(buf.String(), "script change rejected"); n != step.rejected {
			t.Fatalf("%s: %d rejections logged, want %d:\n%s", step.name, n, step.rejected, buf)
		}
	}
	out := buf.String()
	for _, want := range []string{path + `:3: near \"end\": syntax error`, path + ":1: lua ran for more than 100ms", "cannot stat script", "script reloaded"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "cannot stat script"); n != 1 {
		t.Errorf("missing file logged %d times, want once", n)
	}
}

// busyScript exercises the shared library functions (string methods,
// pairs, ipairs, pcall, table and math) before hanging up with cause.
func busyScript(cause string) string {
	return onCall(fmt.Sprintf(`local parts = {}
for w in ("a b c"):gmatch("%%a") do parts[#parts + 1] = w:upper() end
table.sort(parts, function(x, y) return x > y end)
for i, v in ipairs(parts) do parts[i] = v .. math.floor(i / 2) end
for k in pairs({x = 1}) do parts[#parts + 1] = tostring(k) end
local ok = pcall(string.rep)
if table.concat(parts) ~= "C0B1A1x" or ok or not call.destination:match("^%%d+$") then error("unexpected") end
call:hangup(%q)`, cause))
}

func TestConcurrentRunsDuringReload(t *testing.T) {
	e, path := newEngine(t, busyScript("busy"), dialplan.Config{}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				s := dialplantest.NewFakeSession("1001", "1002")
				if err := e.Run(t.Context(), s); err != nil {
					errs <- err
					return
				}
				if got := s.Calls(); len(got) != 1 || (got[0] != "hangup busy" && got[0] != "hangup declined") {
					errs <- fmt.Errorf("calls = %q", got)
					return
				}
			}
		})
	}
	for i := range 5 {
		cause := "busy"
		if i%2 == 0 {
			cause = "declined"
		}
		rewriteScript(t, path, busyScript(cause), i+1)
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
