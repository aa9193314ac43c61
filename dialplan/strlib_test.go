package dialplan

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// patternCalls are the pattern function calls compared with gopher-lua's
// own string library: s, p and r are the subject, pattern and replacement.
var patternCalls = []string{
	`string.find(s, p)`,
	`string.find(s, p, 2)`,
	`string.find(s, p, -3)`,
	`string.find(s, p, 1, true)`,
	`string.match(s, p)`,
	`string.match(s, p, 2)`,
	`string.gsub(s, p, r)`,
	`string.gsub(s, p, r, 2)`,
	`string.gsub(s, p, {a = "A", [""] = "E"})`,
	`string.gsub(s, p, function(c, d) return d and (c .. d) or nil end)`,
	`(function() local t = {} for a, b in string.gmatch(s, p) do t[#t + 1] = tostring(a) .. "," .. tostring(b) end return table.concat(t, ";") end)()`,
}

// evalPatterns evaluates patternCalls in L and returns their results (or
// "error"), one line each.
func evalPatterns(t *testing.T, L *lua.LState, s, p, r string) string {
	t.Helper()
	L.SetGlobal("s", lua.LString(s))
	L.SetGlobal("p", lua.LString(p))
	L.SetGlobal("r", lua.LString(r))
	var out strings.Builder
	for _, call := range patternCalls {
		src := `local ok, a, b, c, d = pcall(function() return ` + call + ` end)
return ok and string.format("%s|%s|%s|%s", tostring(a), tostring(b), tostring(c), tostring(d)) or "error"`
		if err := L.DoString(src); err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		out.WriteString(call + " = " + L.Get(-1).String() + "\n")
		L.Pop(1)
	}
	return out.String()
}

// checkSamePatterns compares the sandbox's pattern functions with
// gopher-lua's on one input.
func checkSamePatterns(t *testing.T, lib *library, s, p, r string) {
	t.Helper()
	plain := lua.NewState()
	defer plain.Close()
	ours, err := lib.newState()
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	want := evalPatterns(t, plain, s, p, r)
	if got := evalPatterns(t, ours, s, p, r); got != want {
		t.Errorf("s=%q p=%q r=%q:\ngot\n%swant (gopher-lua)\n%s", s, p, r, got, want)
	}
}

// TestPatternsAsGopherLua: the bounded pattern functions give gopher-lua's
// results.
func TestPatternsAsGopherLua(t *testing.T) {
	lib, err := newLibrary()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][3]string{
		{"hello world", "o", "0"},
		{"hello world", "(o)(r?)", "[%1%2]"},
		{"hello world", "^h", "H"},
		{"hello world", "d$", "D"},
		{"hello world", "", "-"},
		{"hello", "l*", "x"},
		{"hello", "l-", "x"},
		{"key=value; k2=v2", "(%w+)=(%w+)", "%2=%1"},
		{"a(b(c)d)e", "%b()", "%0%0"},
		{"abcabc", "(a)(b)%1", "%%"},
		{"sip:1001@example.com", "^sip:(%d+)@(.+)$", "%1 at %2"},
		{"  trim  ", "^%s*(.-)%s*$", "%1"},
		{"x", "()", "%1"},
		{"a.b", ".", "%"},
		{"aaa", "a?", "b"},
		{"[x]", "[%[%]]", "|"},
		{"abc", "[^b]", "_"},
		{"abc", "(", "x"},
		{"abc", "%", "x"},
		{"abc", "[a", "x"},
		{"abc", "b", "%9"},
		{"0123456789", "[2-5]+", "#"},
		{"ÄÖÜ", "[\x80-\xff]", "?"},
	} {
		checkSamePatterns(t, lib, c[0], c[1], c[2])
	}
}

// FuzzPatterns compares the sandbox's pattern functions with gopher-lua's
// on short inputs (short enough for gopher-lua's unbounded matcher).
func FuzzPatterns(f *testing.F) {
	f.Add("hello world", "(o)(r?)", "[%1%2]")
	f.Add("key=value", "^(%w+)=(.-)$", "%2")
	f.Add("a(b)c", "%b()", "%0")
	f.Add("aaa", "a-()", "x")
	lib, err := newLibrary()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s, p, r string) {
		if len(s) > 16 || len(p) > 6 || len(r) > 8 { // gopher-lua backtracks without bound
			return
		}
		checkSamePatterns(t, lib, s, p, r)
	})
}
