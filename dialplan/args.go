package dialplan

import (
	"math"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits on call API arguments.
const (
	maxTimeout    = 24 * time.Hour
	maxDigits     = 128
	maxTargets    = 64
	dtmfSymbols   = "0123456789*#ABCD"
	bridgeUsage   = `bridge: targets must be a string or an array of strings, e.g. "user/1001" or {"user/1001", "user/1002"}`
	collectFields = "max, timeout, terminator, prompt"
)

// Argument checks raise Lua errors with L.RaiseError, which prefixes the
// script's file and line of the calling statement.

// argString returns argument n, which must be a non-empty string.
func argString(L *lua.LState, n int, op, what string) string {
	s, ok := L.Get(n).(lua.LString)
	if !ok {
		L.RaiseError("%s: %s must be a string, got %s", op, what, L.Get(n).Type())
		return ""
	}
	if s == "" {
		L.RaiseError("%s: %s must not be empty", op, what)
	}
	return string(s)
}

// integer reports whether v is a whole number and returns it.
func integer(v lua.LNumber) (int, bool) {
	f := float64(v)
	if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// wholeOption reads option key of op, a whole number from lo to hi.
func wholeOption(L *lua.LState, op, key string, v lua.LValue, lo, hi int) int {
	num, isNum := v.(lua.LNumber)
	k, whole := integer(num)
	if !isNum || !whole || k < lo || k > hi {
		L.RaiseError("%s: %s must be a whole number between %d and %d, got %s", op, key, lo, hi, v.String())
	}
	return k
}

// seconds converts a timeout in seconds (fractions allowed) to a duration.
func seconds(L *lua.LState, op, key string, v lua.LValue) time.Duration {
	n, ok := v.(lua.LNumber)
	f := float64(n)
	if !ok || math.IsNaN(f) || f < 0 || f > maxTimeout.Seconds() {
		L.RaiseError("%s: %s must be a number of seconds between 0 and %v, got %s", op, key, maxTimeout.Seconds(), v.String())
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// optTable returns argument n, which must be a table or absent (nil).
func optTable(L *lua.LState, n int, op string) *lua.LTable {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LTable:
		return v
	default:
		L.RaiseError("%s: options must be a table, got %s", op, v.Type())
		return nil
	}
}

// eachOption calls set for each key of the options table t, raising an
// error for keys that are not strings; set returns false for unknown keys.
func eachOption(L *lua.LState, t *lua.LTable, op, known string, set func(key string, v lua.LValue) bool) {
	if t == nil {
		return
	}
	t.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok || !set(string(key), v) {
			L.RaiseError("%s: unknown option %s (known: %s)", op, k.String(), known)
		}
	})
}

// collectOptions reads call:collect's options table (argument n).
func collectOptions(L *lua.LState, n int) CollectOptions {
	var o CollectOptions
	eachOption(L, optTable(L, n, "collect"), "collect", collectFields, func(key string, v lua.LValue) bool {
		switch key {
		case "max":
			o.Max = wholeOption(L, "collect", "max", v, 1, maxDigits)
		case "timeout":
			o.Timeout = seconds(L, "collect", "timeout", v)
		case "terminator":
			s, ok := v.(lua.LString)
			if !ok || len(s) > 1 || !strings.Contains(dtmfSymbols, string(s)) {
				L.RaiseError("collect: terminator must be one of %s or empty, got %s", dtmfSymbols, v.String())
			}
			o.Terminator = string(s)
		case "prompt":
			s, ok := v.(lua.LString)
			if !ok {
				L.RaiseError("collect: prompt must be a string, got %s", v.Type())
			}
			o.Prompt = string(s)
		default:
			return false
		}
		return true
	})
	return o
}

// bridgeTargets reads call:bridge's targets (argument n): a string or a
// non-empty array of non-empty strings.
func bridgeTargets(L *lua.LState, n int) []string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		if v == "" {
			L.RaiseError("bridge: target must not be empty")
		}
		return []string{string(v)}
	case *lua.LTable:
		count := v.Len()
		if count == 0 || count > maxTargets {
			L.RaiseError("bridge: targets must hold 1 to %d strings, got %d", maxTargets, count)
		}
		targets := make([]string, 0, count)
		for i := 1; i <= count; i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok || s == "" {
				L.RaiseError("bridge: target %d must be a non-empty string, got %s", i, v.RawGetInt(i).String())
			}
			targets = append(targets, string(s))
		}
		return targets
	default:
		L.RaiseError("%s, got %s", bridgeUsage, v.Type())
		return nil
	}
}

// bridgeOptions reads call:bridge's options table (argument n).
func bridgeOptions(L *lua.LState, n int) BridgeOptions {
	var o BridgeOptions
	eachOption(L, optTable(L, n, "bridge"), "bridge", "timeout, record", func(key string, v lua.LValue) bool {
		switch key {
		case "timeout":
			o.Timeout = seconds(L, "bridge", "timeout", v)
		case "record":
			b, ok := v.(lua.LBool)
			if !ok {
				L.RaiseError("bridge: record must be a boolean, got %s", v.String())
			}
			o.Record = bool(b)
		default:
			return false
		}
		return true
	})
	return o
}
