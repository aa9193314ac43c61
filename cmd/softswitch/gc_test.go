package main

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	if got := tuneGC(func(string) string { return "" }, log); got != defaultGCPercent {
		t.Fatalf("without GOGC: %d, want %d", got, defaultGCPercent)
	}
	if p := debug.SetGCPercent(100); p != defaultGCPercent {
		t.Fatalf("runtime GC percent %d after tuneGC, want %d", p, defaultGCPercent)
	}

	debug.SetGCPercent(80) // as the runtime does for GOGC=80
	env := func(k string) string {
		if k == "GOGC" {
			return "80"
		}
		return ""
	}
	if got := tuneGC(env, log); got != 80 {
		t.Fatalf("with GOGC=80: %d, want 80 kept", got)
	}
	if p := debug.SetGCPercent(100); p != 80 {
		t.Fatalf("runtime GC percent %d, want GOGC's 80 kept", p)
	}
}
