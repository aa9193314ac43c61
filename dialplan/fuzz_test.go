package dialplan_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
		onCall(`string.find(("a"):rep(800), ".-.-.-b")`),
		onCall(`local s = ("x"):rep(65536) s:gsub(".", s)`),
		onCall(`local t = {} while true do t[#t + 1] = {1, 2, 3, 4} end`),
		onCall(`local s = "x" while true do s = s .. s end`),
		onCall(`for i = 1, 1e6 do print(("x"):rep(1e5)) end`),
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
		// New and Run each stop within MaxDuration, builtins included:
		// twice that and a second is the bound. Wall time on a loaded
		// machine (or under -race) can pass it without any bug, so an
		// overrun counts only if a second run overruns too: an escape
		// from the limits is reproducible, a load spike is not.
		bound := 2*cfg.MaxDuration + time.Second
		if took := fuzzScriptOnce(t, cfg); took > bound {
			if again := fuzzScriptOnce(t, cfg); again > bound {
				t.Fatalf("New and Run took %v, then %v (bound %v)", took, again, bound)
			}
			t.Logf("New and Run took %v once, within %v when run again", took, bound)
		}
	})
}

// fuzzScriptOnce compiles and runs cfg's script against a fake call and
// returns how long that took; any error must be a script error.
func fuzzScriptOnce(t *testing.T, cfg dialplan.Config) time.Duration {
	t.Helper()
	start := time.Now()
	e, err := dialplan.New(cfg, discard())
	if err != nil {
		if !errors.Is(err, dialplan.ErrScript) {
			t.Fatalf("New = %v, want a script error", err)
		}
		return time.Since(start)
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
	return time.Since(start)
}

// FuzzShippedDialplan runs the shipped dialplan on calls whose
// network-controlled fields (caller, display name, dialled number, a
// header) are arbitrary: it must never fail, and route exactly as written:
// the test number answered, four digits bridged, 0 + number sent to a
// trunk (none is configured here: congestion), *98 the caller's mailbox
// (only for an extension), the rest refused.
func FuzzShippedDialplan(f *testing.F) {
	f.Add("1001", "Alice", "1002", "JsSIP 3.13.8")
	f.Add("1002", "", "07010002000", "baresip v1.0.0 (x86_64/linux)")
	f.Add("sipp", "\"quoted\" name", "0049301234567", "")
	f.Add("anonymous", "Anonymous", "1O02", "\x00\xff")
	f.Add("1001", "", "１２３４", "")
	f.Add("1001", "", "*98", "")
	f.Add("sipp", "", "*98", "")
	cfg := dialplan.Config{Path: shippedScript, CPUBudget: time.Second, MaxDuration: 10 * time.Second}
	e, err := dialplan.New(cfg, discard())
	if err != nil {
		f.Fatal(err)
	}
	four := regexp.MustCompile(`^[0-9]{4}$`)
	external := regexp.MustCompile(`^0\+?[0-9]+$`)
	f.Fuzz(func(t *testing.T, caller, name, dest, ua string) {
		s := dialplantest.NewFakeSession(caller, dest)
		s.Call.CallerName = name
		s.Headers = map[string]string{"User-Agent": ua}
		s.Bridges = []dialplantest.BridgeResult{{Reason: "busy"}}
		if err := e.Run(t.Context(), s); err != nil {
			t.Fatalf("Run(%q -> %q) = %v", caller, dest, err)
		}
		want := []string{"hangup not-found"}
		switch {
		case dest == "07010002000":
			want = []string{"answer", "play test-audio", "hangup normal"}
		case four.MatchString(dest): // busy: voicemail takes a message
			want = []string{"bridge user/" + dest + " timeout=30s", "voicemail " + dest + " max=2m0s silence=5s", "hangup normal"}
		case dest == "*98" && four.MatchString(caller):
			want = []string{"answer", "voicemail_messages " + caller, "play vm-no-messages", "hangup normal"}
		case dest == "*98":
			want = []string{"hangup forbidden"}
		case external.MatchString(dest):
			want = []string{"hangup congestion"}
		}
		if got := s.Calls(); !slices.Equal(got, want) {
			t.Fatalf("call to %q: %q, want %q", dest, got, want)
		}
	})
}

// checkedSession is a fake call that checks every argument the Lua API
// hands it against the documented limits.
type checkedSession struct {
	*dialplantest.FakeSession
	t *testing.T
}

func (s checkedSession) Bridge(ctx context.Context, targets []string, o dialplan.BridgeOptions) (bool, string, error) {
	if len(targets) == 0 || len(targets) > 64 || slices.Contains(targets, "") || o.Timeout < 0 || o.Timeout > 24*time.Hour {
		s.t.Fatalf("bridge %q %+v", targets, o)
	}
	return s.FakeSession.Bridge(ctx, targets, o)
}

func (s checkedSession) Collect(ctx context.Context, o dialplan.CollectOptions) (string, error) {
	if o.Max < 0 || o.Max > 128 || o.Timeout < 0 || o.Timeout > 24*time.Hour || len(o.Terminator) > 1 || !strings.Contains("0123456789*#ABCD", o.Terminator) {
		s.t.Fatalf("collect %+v", o)
	}
	return s.FakeSession.Collect(ctx, o)
}

func (s checkedSession) Record(ctx context.Context, name string, o dialplan.RecordOptions) (dialplan.RecordResult, error) {
	if dialplan.CheckRecordName(name) != nil || o.Max <= 0 || o.Max > time.Hour || o.Silence < 0 || o.Silence > 24*time.Hour ||
		strings.Trim(o.Terminator, "0123456789*#ABCD") != "" {
		s.t.Fatalf("record %q %+v", name, o)
	}
	return s.FakeSession.Record(ctx, name, o)
}

func (s checkedSession) Voicemail(ctx context.Context, ext string, o dialplan.VoicemailOptions) (bool, string, error) {
	if !dialplan.MailboxName(ext) || o.Max <= 0 || o.Max > time.Hour || o.Silence < 0 || o.Silence > 24*time.Hour {
		s.t.Fatalf("voicemail %q %+v", ext, o)
	}
	return s.FakeSession.Voicemail(ctx, ext, o)
}

func (s checkedSession) Play(ctx context.Context, prompt string) error {
	if prompt == "" {
		s.t.Fatalf("play with an empty prompt")
	}
	return s.FakeSession.Play(ctx, prompt)
}

func (s checkedSession) Hangup(ctx context.Context, cause string) error {
	if cause == "" {
		s.t.Fatalf("hangup with an empty cause")
	}
	return s.FakeSession.Hangup(ctx, cause)
}

// FuzzCallArgs calls every call API function with arbitrary strings and
// numbers (each call under pcall): a bad argument must raise a Lua error,
// never reach the call out of range, and a good one must reach it as is.
func FuzzCallArgs(f *testing.F) {
	f.Add("user/1001", 30.0, 4.0, "#", "busy", 486.0, "pin", "1234")
	f.Add("", -1.0, 0.0, "##", "", 399.5, "", "")
	f.Add("trunk/carrier/0049301234567", 86400.0, 128.0, "", "normal", 699.0, "x", "\x00")
	f.Add("user/1002", math.NaN(), math.Inf(1), "*", "\"]]--", math.Inf(-1), "a\nb", "\\")
	f.Fuzz(func(t *testing.T, target string, timeout, max float64, term, cause string, code float64, name, value string) {
		src := fmt.Sprintf(`function on_call(call)
  pcall(call.bridge, call, %[1]s, {timeout = %[2]s})
  pcall(call.bridge, call, {%[1]s, %[1]s})
  pcall(call.collect, call, {max = %[3]s, timeout = %[2]s, terminator = %[4]s, prompt = %[1]s})
  pcall(call.play, call, %[1]s)
  pcall(call.set, call, %[7]s, %[8]s)
  pcall(call.set, call, %[7]s .. "#n", %[3]s)
  pcall(call.header, call, %[7]s)
  pcall(call.get, call, %[7]s)
  pcall(call.play, call, %[1]s, %[7]s)
  pcall(call.say_digits, call, %[8]s)
  pcall(call.say_number, call, %[3]s)
  pcall(call.record, call, %[7]s, {max = %[2]s, silence = %[3]s, terminator = %[4]s})
  pcall(call.voicemail, call, %[7]s, {greeting = %[1]s, max = %[2]s, silence = %[3]s})
  pcall(call.voicemail_delete, call, %[7]s, %[6]s)
  pcall(call.conference, call, %[7]s, {pin = %[8]s, max = %[3]s, moderator = true})
  pcall(os.date, %[8]s, %[6]s)
  pcall(os.time, {year = %[3]s, month = %[6]s, day = %[2]s})
  pcall(call.hangup, call, %[6]s)
  pcall(call.hangup, call, %[5]s)
end
`, luaString(target), luaNumber(timeout), luaNumber(max), luaString(term), luaString(cause), luaNumber(code), luaString(name), luaString(value))
		path := filepath.Join(t.TempDir(), "args.lua")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := dialplan.New(dialplan.Config{Path: path, CPUBudget: time.Second, MaxDuration: 10 * time.Second}, discard())
		if err != nil {
			t.Fatalf("%v\n%s", err, src)
		}
		s := checkedSession{dialplantest.NewFakeSession("1001", "1002"), t}
		if err := e.Run(t.Context(), s); err != nil {
			t.Fatalf("Run = %v\n%s", err, src)
		}
		calls := s.Calls()
		okTimeout := timeout >= 0 && timeout <= 86400
		d := time.Duration(timeout * float64(time.Second))
		if target != "" && okTimeout {
			want := "bridge " + target
			if d > 0 {
				want += " timeout=" + d.String()
			}
			if !slices.Contains(calls, want) {
				t.Errorf("valid bridge(%q, %v) not made: %q", target, timeout, calls)
			}
		}
		if target != "" && !slices.Contains(calls, "play "+target) {
			t.Errorf("valid play(%q) not made: %q", target, calls)
		}
		if code >= 400 && code <= 699 && code == math.Trunc(code) && !slices.Contains(calls, "hangup "+strconv.Itoa(int(code))) {
			t.Errorf("valid hangup(%v) not made: %q", code, calls)
		}
		wantCause := cause
		if cause == "" {
			wantCause = "normal"
		}
		if !slices.Contains(calls, "hangup "+wantCause) {
			t.Errorf("hangup(%q) not made: %q", cause, calls)
		}
		if dialplan.CheckRoomName(name) == nil && strings.Trim(value, "0123456789") == "" && len(value) <= 16 &&
			max >= 1 && max <= 500 && max == math.Trunc(max) &&
			!slices.Contains(calls, fmt.Sprintf("conference %s pin=%s max=%d moderator=true muted=false", name, value, int(max))) {
			t.Errorf("valid conference(%q, pin %q, max %v) not made: %q", name, value, max, calls)
		}
		if name != "" && len(name) <= 64 && len(value) <= 1024 && s.Vars()[name] != value {
			t.Errorf("set(%q, %q) not made: %q", name, value, s.Vars())
		}
	})
}

// luaString writes s as a Lua string literal, escaping every byte that is
// not printable ASCII.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			fmt.Fprintf(&b, `\%03d`, c)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// luaNumber writes f as a Lua expression.
func luaNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "(0/0)"
	case math.IsInf(f, 1):
		return "(1/0)"
	case math.IsInf(f, -1):
		return "(-1/0)"
	}
	return "(" + strconv.FormatFloat(f, 'g', -1, 64) + ")"
}

// FuzzCheckRoomName: an accepted room name is never a path (no
// separator, no leading dot, so neither "." nor "..") and never empty.
func FuzzCheckRoomName(f *testing.F) {
	for _, s := range []string{"3000", "conf-team", "../etc", "a/b", ".", "..", "a\\b", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if dialplan.CheckRoomName(name) != nil {
			return
		}
		if name == "" || len(name) > 64 || name[0] == '.' || strings.ContainsAny(name, "/\\\x00") {
			t.Fatalf("accepted %q", name)
		}
	})
}
