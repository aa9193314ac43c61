package main

import (
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// After a burst of calls ends, the memory returner collects without
// waiting for the runtime's own pace; it stays quiet while calls hold.
func TestMemoryReturner(t *testing.T) {
	var calls atomic.Int64
	calls.Store(100)
	gcs := func() uint32 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.NumForcedGC
	}
	before := gcs()
	m := startMemoryReturner(func() int { return int(calls.Load()) }, 5*time.Millisecond, slog.New(slog.DiscardHandler))
	defer m.close()
	time.Sleep(50 * time.Millisecond)
	calls.Store(90) // a few ended: not worth a collection
	time.Sleep(50 * time.Millisecond)
	if n := gcs() - before; n != 0 {
		t.Fatalf("%d forced collections while calls held", n)
	}
	calls.Store(0)
	deadline := time.Now().Add(10 * time.Second)
	for gcs() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if gcs() == before {
		t.Fatal("no collection after the calls ended")
	}
}
