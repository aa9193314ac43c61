package dialplan

import (
	"math"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// maxDateFormat bounds os.date's format string.
const maxDateFormat = 256

// osLibrary returns the sandbox's os table, which every call reads
// through: os.time, os.date, os.difftime and os.clock, reading the
// clock of the call's run (found through the state's context). Nothing
// else of Lua's os library (execute, getenv, exit, remove, rename,
// tmpname, setlocale) is there.
func osLibrary(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("time", L.NewFunction(withRun((*run).luaTime)))
	t.RawSetString("date", L.NewFunction(withRun((*run).luaDate)))
	t.RawSetString("difftime", L.NewFunction(luaDifftime))
	t.RawSetString("clock", L.NewFunction(withRun((*run).luaClock)))
	return t
}

// now returns the run's clock reading.
func (r *run) now() time.Time {
	if r.clock != nil {
		return r.clock()
	}
	return time.Now()
}

// os.time([t]) -> seconds since the Unix epoch: now, or the local time
// described by table t (year, month, day required; hour defaults to 12,
// min and sec to 0; out-of-range fields are normalised, as in C).
func (r *run) luaTime(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		L.Push(lua.LNumber(r.now().Unix()))
		return 1
	case *lua.LTable:
		field := func(name string, def int, required bool) int {
			f := v.RawGetString(name)
			if f == lua.LNil && !required {
				return def
			}
			n, ok := f.(lua.LNumber)
			i, whole := integer(n)
			if !ok || !whole || math.Abs(float64(i)) > 1e6 {
				L.RaiseError("os.time: field %s must be a whole number, got %s", name, f.String())
			}
			return i
		}
		year, month, day := field("year", 0, true), field("month", 0, true), field("day", 0, true)
		hour, mins, sec := field("hour", 12, false), field("min", 0, false), field("sec", 0, false)
		t := time.Date(year, time.Month(month), day, hour, mins, sec, 0, r.now().Location())
		L.Push(lua.LNumber(t.Unix()))
		return 1
	default:
		L.RaiseError("os.time: argument must be a table or nothing, got %s", v.Type())
		return 0
	}
}

// os.date([format [, time]]) formats time (default now) in the clock's
// time zone, or in UTC when format starts with "!". "*t" returns a table
// (year, month, day, hour, min, sec, wday with 1 = Sunday, yday, isdst).
// The conversions are C's %a %A %b %B %c %d %H %I %j %m %M %p %S %w %x %X
// %y %Y %Z and %%; any other is an error.
func (r *run) luaDate(L *lua.LState) int {
	format := "%c"
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
	case lua.LString:
		format = string(v)
	default:
		L.RaiseError("os.date: format must be a string, got %s", v.Type())
		return 0
	}
	t := r.now()
	switch v := L.Get(2).(type) {
	case *lua.LNilType:
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.Abs(f) > 1e12 {
			L.RaiseError("os.date: time out of range: %s", v.String())
			return 0
		}
		t = time.Unix(int64(f), 0).In(t.Location())
	default:
		L.RaiseError("os.date: time must be a number, got %s", v.Type())
		return 0
	}
	if f, ok := strings.CutPrefix(format, "!"); ok {
		format, t = f, t.UTC()
	}
	if format == "*t" {
		L.Push(dateTable(L, t))
		return 1
	}
	s, err := FormatDate(format, t)
	if err != nil {
		L.RaiseError("os.date: %v", err)
		return 0
	}
	L.Push(lua.LString(s))
	return 1
}

func dateTable(L *lua.LState, t time.Time) *lua.LTable {
	tb := L.CreateTable(0, 9)
	for _, f := range []struct {
		k string
		v int
	}{
		{"year", t.Year()}, {"month", int(t.Month())}, {"day", t.Day()},
		{"hour", t.Hour()}, {"min", t.Minute()}, {"sec", t.Second()},
		{"wday", int(t.Weekday()) + 1}, {"yday", t.YearDay()},
	} {
		tb.RawSetString(f.k, lua.LNumber(f.v))
	}
	tb.RawSetString("isdst", lua.LBool(t.IsDST()))
	return tb
}

// FormatDate formats t with a C strftime format (the subset os.date
// accepts). It fails on an unknown conversion or a format over 256 bytes.
func FormatDate(format string, t time.Time) (string, error) {
	if len(format) > maxDateFormat {
		return "", errDate("format longer than " + strconv.Itoa(maxDateFormat) + " bytes")
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(format) {
			return "", errDate("format ends with %")
		}
		var s string
		switch format[i] {
		case 'a':
			s = t.Format("Mon")
		case 'A':
			s = t.Format("Monday")
		case 'b':
			s = t.Format("Jan")
		case 'B':
			s = t.Format("January")
		case 'c':
			s = t.Format("Mon Jan  2 15:04:05 2006")
		case 'd':
			s = t.Format("02")
		case 'H':
			s = t.Format("15")
		case 'I':
			s = t.Format("03")
		case 'j':
			s = pad3(t.YearDay())
		case 'm':
			s = t.Format("01")
		case 'M':
			s = t.Format("04")
		case 'p':
			s = t.Format("PM")
		case 'S':
			s = t.Format("05")
		case 'w':
			s = strconv.Itoa(int(t.Weekday()))
		case 'x':
			s = t.Format("01/02/06")
		case 'X':
			s = t.Format("15:04:05")
		case 'y':
			s = t.Format("06")
		case 'Y':
			s = strconv.Itoa(t.Year())
		case 'Z':
			s = t.Format("MST")
		case '%':
			s = "%"
		default:
			return "", errDate("unsupported conversion %" + string(format[i]))
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", max(0, 3-len(s))) + s
}

type errDate string

func (e errDate) Error() string { return string(e) }

// os.difftime(t2, t1) -> t2 - t1 in seconds.
func luaDifftime(L *lua.LState) int {
	t2, ok2 := L.Get(1).(lua.LNumber)
	t1, ok1 := L.Get(2).(lua.LNumber)
	if !ok1 || !ok2 {
		L.RaiseError("os.difftime: want two numbers, got %s and %s", L.Get(1).Type(), L.Get(2).Type())
		return 0
	}
	L.Push(t2 - t1)
	return 1
}

// os.clock() -> seconds since the run started (wall time, not CPU time:
// the process's CPU time is shared by every call).
func (r *run) luaClock(L *lua.LState) int {
	L.Push(lua.LNumber(time.Since(r.started).Seconds()))
	return 1
}
