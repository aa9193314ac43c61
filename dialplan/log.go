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

// logLibrary returns the shared log table (log.debug, log.info, log.warn
// and log.error, each taking any values like print) and print. They find
// their run through the state's context, so every call's state shares
// them.
func logLibrary(L *lua.LState) (log *lua.LTable, print *lua.LFunction) {
	log = L.CreateTable(0, 4)
	log.RawSetString("debug", L.NewFunction(logFunc(levelDebug)))
	log.RawSetString("info", L.NewFunction(logFunc(levelInfo)))
	log.RawSetString("warn", L.NewFunction(logFunc(levelWarn)))
	log.RawSetString("error", L.NewFunction(logFunc(levelError)))
	return log, L.NewFunction(logFunc(levelInfo))
}

// Bounds of a call's script logging: print(("x"):rep(2^20)) in a loop
// must not fill the disk.
const (
	maxLogLine  = 2 << 10  // bytes of one message; longer ones are cut
	maxLogBytes = 64 << 10 // bytes of messages per call
)

// logFunc returns a Lua function that logs its arguments, converted with
// tostring and joined by spaces, at level, with the script position as
// "at" (the logger already carries call_id). A message is cut at
// maxLogLine bytes; past maxLogBytes in the call, messages are dropped,
// which is logged once.
func logFunc(level slog.Level) lua.LGFunction {
	return func(L *lua.LState) int {
		m := meterOf(L)
		if m == nil {
			return 0
		}
		r := m.r
		if r.logBytes > maxLogBytes || !r.log.Enabled(r.ctx, level) {
			return 0
		}
		var b strings.Builder
		for i := 1; i <= L.GetTop() && b.Len() <= maxLogLine; i++ {
			if i > 1 {
				b.WriteByte(' ')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		msg := b.String()
		if len(msg) > maxLogLine {
			msg = strings.ToValidUTF8(msg[:maxLogLine], "") + "... (cut)"
		}
		at := strings.TrimSuffix(L.Where(1), ":")
		r.logBytes += len(msg)
		if r.logBytes > maxLogBytes {
			r.log.Warn("dialplan: log output limit reached for this call, dropping further script logs", "limit_bytes", maxLogBytes, "at", at)
			return 0
		}
		r.log.Log(r.ctx, level, msg, "at", at)
		return 0
	}
}
