package dialplan

import (
	"log/slog"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

const (
	levelDebug = slog.LevelDebug
	levelInfo  = slog.LevelInfo
	levelWarn  = slog.LevelWarn
	levelError = slog.LevelError
)

// logTable returns the script's log table: log.debug, log.info, log.warn
// and log.error, each taking any values like print.
func (r *run) logTable(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 4)
	t.RawSetString("debug", L.NewFunction(r.logFunc(levelDebug)))
	t.RawSetString("info", L.NewFunction(r.logFunc(levelInfo)))
	t.RawSetString("warn", L.NewFunction(r.logFunc(levelWarn)))
	t.RawSetString("error", L.NewFunction(r.logFunc(levelError)))
	return t
}

// logFunc returns a Lua function that logs its arguments, converted with
// tostring and joined by spaces, at level, with the script position as
// "at" (the logger already carries call_id).
func (r *run) logFunc(level slog.Level) lua.LGFunction {
	return func(L *lua.LState) int {
		if !r.log.Enabled(r.ctx, level) {
			return 0
		}
		var b strings.Builder
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				b.WriteByte(' ')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		r.log.Log(r.ctx, level, b.String(), "at", strings.TrimSuffix(L.Where(1), ":"))
		return 0
	}
}
