package dialplan

import (
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/softswitch/softswitch/dialplan/internal/luapattern"
)

// The sandbox's pattern functions (string.find, match, gmatch, gsub) are
// gopher-lua's, run by luapattern so that they stay within the call's
// limits: gopher-lua's ran a backtracking pattern to completion (minutes
// for string.find(("a"):rep(800), ".-.-.-b")) without looking at the
// context, collected every match before replacing, and copied the whole
// result once per replacement.
const (
	// maxSubjectBytes bounds the string a pattern is matched against.
	maxSubjectBytes = 256 << 10
	// maxPatternBytes bounds a pattern.
	maxPatternBytes = 4 << 10
	// maxMatchDepth bounds the nesting of backtracking, each level a Go
	// stack frame of about 200 bytes.
	maxMatchDepth = 1 << 17
	// maxFormatWidth bounds the width and precision of a string.format
	// conversion, as in Lua 5.1 (two digits).
	maxFormatWidth = 99
)

// compilePattern checks the sizes of a pattern function's subject and
// pattern, and compiles the pattern; it raises a Lua error if they are too
// large or the pattern is malformed.
func compilePattern(L *lua.LState, fn, subject, pattern string) *luapattern.Pattern {
	if len(subject) > maxSubjectBytes {
		L.RaiseError("string.%s: subject of %d bytes is longer than the %d allowed", fn, len(subject), maxSubjectBytes)
	}
	if len(pattern) > maxPatternBytes {
		L.RaiseError("string.%s: pattern of %d bytes is longer than the %d allowed", fn, len(pattern), maxPatternBytes)
	}
	compile := luapattern.Compile
	if m := meterOf(L); m != nil && m.r.patterns != nil {
		compile = m.r.patterns.get
	}
	p, err := compile(pattern)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	return p
}

// findPattern returns the first match of p in s at or after offset, and
// its end; nil when there is none. It raises a Lua error when the run is
// stopped during the search (budget, hangup) or the search is too deep.
func findPattern(L *lua.LState, p *luapattern.Pattern, s string, offset int) (*luapattern.MatchData, int) {
	lim := luapattern.Limits{MaxDepth: maxMatchDepth}
	if m := meterOf(L); m != nil {
		lim.Check = m.check
	}
	src := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	md, end, err := p.Find(src, offset, lim)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	return md, end
}

// pushCaptures pushes the captures of md (the whole match if it has none
// and whole is set) and returns how many it pushed.
func pushCaptures(L *lua.LState, md *luapattern.MatchData, s string, whole bool) int {
	if md.CaptureLength() <= 2 {
		if !whole {
			return 0
		}
		L.Push(lua.LString(s[md.Capture(0):md.Capture(1)]))
		return 1
	}
	for i := 2; i < md.CaptureLength(); i += 2 {
		if md.IsPosCapture(i) {
			L.Push(lua.LNumber(md.Capture(i)))
		} else {
			L.Push(lua.LString(s[md.Capture(i):md.Capture(i+1)]))
		}
	}
	return md.CaptureLength()/2 - 1
}

// startIndex converts a Lua string index (1-based, negative from the end)
// to a Go offset, as gopher-lua does for string.find.
func startIndex(s string, i int) int {
	if i != 0 {
		i--
	}
	if i < 0 {
		i += len(s) + 1
	}
	return max(i, 0)
}

// luaStrFind is string.find(s, pattern [, init [, plain]]).
func luaStrFind(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	if pattern == "" {
		L.Push(lua.LNumber(1))
		L.Push(lua.LNumber(0))
		return 2
	}
	init := startIndex(s, L.OptInt(3, 1))
	if L.GetTop() == 4 && lua.LVAsBool(L.Get(4)) {
		pos := -1
		if init <= len(s) {
			pos = strings.Index(s[init:], pattern)
		}
		if pos < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + pos + 1))
		L.Push(lua.LNumber(init + pos + len(pattern)))
		return 2
	}
	p := compilePattern(L, "find", s, pattern)
	if init > len(s) {
		L.Push(lua.LNil)
		return 1
	}
	md, _ := findPattern(L, p, s, init)
	if md == nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(md.Capture(0) + 1))
	L.Push(lua.LNumber(md.Capture(1)))
	return 2 + pushCaptures(L, md, s, false)
}

// luaStrMatch is string.match(s, pattern [, init]).
func luaStrMatch(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	offset := L.OptInt(3, 1)
	if offset < 0 {
		offset += len(s) + 1
	}
	offset = max(offset-1, 0)
	p := compilePattern(L, "match", s, pattern)
	if offset > len(s) {
		L.Push(lua.LNil)
		return 1
	}
	md, _ := findPattern(L, p, s, offset)
	if md == nil {
		L.Push(lua.LNil)
		return 1
	}
	return pushCaptures(L, md, s, true)
}

// luaStrGmatch is string.gmatch(s, pattern): an iterator that finds the
// next match when it is called, not all of them at once.
func luaStrGmatch(L *lua.LState) int {
	s := L.CheckString(1)
	p := compilePattern(L, "gmatch", s, L.CheckString(2))
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if pos > len(s) {
			return 0
		}
		md, end := findPattern(L, p, s, pos)
		if md == nil || p.Anchored() {
			pos = len(s) + 1
		} else {
			pos = max(md.Capture(0)+1, end)
		}
		if md == nil {
			return 0
		}
		return pushCaptures(L, md, s, true)
	}))
	return 1
}
