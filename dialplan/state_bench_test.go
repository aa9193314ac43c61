package dialplan

import (
	"runtime"
	"testing"
)

// BenchmarkNewState measures a call's sandboxed Lua state before its
// script runs: the CPU and garbage of making one (ns/op, B/op), and what
// one holds while alive (live-B/state, over 1000 states kept).
func BenchmarkNewState(b *testing.B) {
	lib, err := newLibrary()
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	states := make([]any, n)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := range states {
		if states[i], err = lib.newState(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(states)
	live := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / n
	states = nil
	b.ReportAllocs()
	for b.Loop() {
		L, err := lib.newState()
		if err != nil {
			b.Fatal(err)
		}
		L.Close()
	}
	b.ReportMetric(live, "live-B/state")
}
