package dialplan

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/softswitch/softswitch/dialplan/internal/luapattern"
)

// luaStrGsub is string.gsub(s, pattern, repl [, n]) with gopher-lua's
// results, built in one pass and limited to maxStringBytes: a 64 KiB
// s:gsub(".", s) asked gopher-lua for 4 GiB and took the process down.
func luaStrGsub(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.CheckAny(3)
	limit := L.OptInt(4, -1) // as gopher-lua: 0 or less is no limit
	p := compilePattern(L, "gsub", s, pattern)
	var b strings.Builder
	n, done := 0, 0 // matches, bytes of s copied or replaced
	for pos := 0; pos <= len(s) && (limit <= 0 || n < limit); {
		md, end := findPattern(L, p, s, pos)
		if md == nil {
			break
		}
		n++
		start := md.Capture(0)
		r, ok := gsubValue(L, repl, md, s)
		if !ok {
			r = s[start:end]
		}
		if b.Len()+(start-done)+len(r) > maxStringBytes {
			L.RaiseError("string.gsub: result larger than %d bytes", maxStringBytes)
		}
		b.WriteString(s[done:start])
		b.WriteString(r)
		done = end
		if p.Anchored() {
			break
		}
		pos = max(start+1, end)
	}
	if n == 0 {
		L.SetTop(1)
		L.Push(lua.LNumber(0))
		return 2
	}
	if b.Len()+len(s)-done > maxStringBytes {
		L.RaiseError("string.gsub: result larger than %d bytes", maxStringBytes)
	}
	b.WriteString(s[done:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

// gsubValue returns the replacement of the match md by repl, or false to
// keep the match (a table or function gave nil or false).
func gsubValue(L *lua.LState, repl lua.LValue, md *luapattern.MatchData, s string) (string, bool) {
	switch repl := repl.(type) {
	case lua.LString:
		return expandReplacement(L, string(repl), md, s), true
	case *lua.LTable:
		idx := 0
		if md.CaptureLength() > 2 {
			idx = 2
		}
		var v lua.LValue
		if md.IsPosCapture(idx) {
			v = L.GetTable(repl, lua.LNumber(md.Capture(idx)))
		} else {
			v = L.GetField(repl, s[md.Capture(idx):md.Capture(idx+1)])
		}
		return lua.LVAsString(v), lua.LVAsBool(v)
	case *lua.LFunction:
		L.Push(repl)
		L.Call(pushCaptures(L, md, s, true), 1)
		v := L.Get(-1)
		L.Pop(1)
		return lua.LVAsString(v), lua.LVAsBool(v)
	}
	return "", false
}

// expandReplacement expands a gsub replacement string as gopher-lua does:
// %0-%9 are captures, %% is %, and % before anything else stays as is.
func expandReplacement(L *lua.LState, repl string, md *luapattern.MatchData, s string) string {
	if !strings.Contains(repl, "%") {
		return repl
	}
	var b strings.Builder
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '%' || i == len(repl)-1 {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := repl[i]; {
		case d == '%':
			b.WriteByte('%')
		case d >= '0' && d <= '9':
			b.WriteString(captureString(L, md, s, 2*int(d-'0')))
		default:
			b.WriteByte('%')
			b.WriteByte(d)
		}
		if b.Len() > maxStringBytes {
			L.RaiseError("string.gsub: replacement larger than %d bytes", maxStringBytes)
		}
	}
	return b.String()
}

// captureString returns capture idx (2 for %1, ...) of md, the whole match
// for %0 or for %1 without captures.
func captureString(L *lua.LState, md *luapattern.MatchData, s string, idx int) string {
	if idx > 2 && idx >= md.CaptureLength() {
		L.RaiseError("invalid capture index")
	}
	if idx >= md.CaptureLength() && idx == 2 {
		idx = 0
	}
	if md.IsPosCapture(idx) {
		return strconv.Itoa(md.Capture(idx))
	}
	return s[md.Capture(idx):md.Capture(idx+1)]
}

// formatWith returns string.format on top of gopher-lua's (orig), which
// hands the format to fmt.Sprintf: widths and precisions are limited to
// two digits as in Lua 5.1 (fmt accepted %999999d), and a result that
// would be larger than maxStringBytes is refused before it is made.
func formatWith(orig lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		f := L.CheckString(1)
		size := len(f)
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			i++
			for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
				i++
			}
			for _, part := range []bool{true, false} { // width, then .precision
				if !part {
					if i >= len(f) || f[i] != '.' {
						break
					}
					i++
				}
				j := i
				for i < len(f) && f[i] >= '0' && f[i] <= '9' {
					i++
				}
				w, _ := strconv.Atoi(f[j:i])
				if i-j > 2 || w > maxFormatWidth {
					L.RaiseError("invalid format (width or precision too long)")
				}
				size += w
			}
		}
		for i := 2; i <= L.GetTop(); i++ {
			size += 24
			if s, ok := L.Get(i).(lua.LString); ok {
				size += len(s)
			}
		}
		if size > maxStringBytes {
			L.RaiseError("string.format: result larger than %d bytes", maxStringBytes)
		}
		return orig(L)
	}
}
