package main

import (
	"log/slog"
	"runtime/debug"
)

// defaultGCPercent is the server's GOGC unless the environment sets one.
// A relayed call allocates nothing per frame, so the collector runs for
// call set-up and teardown garbage only; at Go's default (100) the heap
// may grow to twice the live heap between collections, which is most of
// the RSS per call above live heap and stacks. 50 lets it grow by half.
const defaultGCPercent = 50

// tuneGC applies defaultGCPercent unless GOGC is set (then the runtime
// has applied it already) and returns the percent in force.
func tuneGC(getenv func(string) string, log *slog.Logger) int {
	if v := getenv("GOGC"); v != "" {
		log.Debug("GC percent from the environment", "GOGC", v)
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
