package dialplan_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

// BenchmarkRunTestNumber measures the per-call overhead of Run: a fresh
// sandboxed state, the shipped script's top level, and its 07010002000
// path (answer, play, hangup) against a fake call.
func BenchmarkRunTestNumber(b *testing.B) {
	e, err := dialplan.New(dialplan.Config{Path: shippedScript}, discard())
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Run(ctx, dialplantest.NewFakeSession("1001", "07010002000")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunTestNumberParallel is the same with concurrent calls.
func BenchmarkRunTestNumberParallel(b *testing.B) {
	e, err := dialplan.New(dialplan.Config{Path: shippedScript}, discard())
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := e.Run(ctx, dialplantest.NewFakeSession("1001", "07010002000")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRunBridged measures what a call costs while its dialplan waits
// in call:bridge, as a relayed call's does for the whole call: the live
// heap and goroutine stack per call with 500 such calls alive (reported as
// heap-B/call and stack-B/call), and per iteration the CPU of a run from
// the start to the bridge and out (the shipped script, extension 1002).
func BenchmarkRunBridged(b *testing.B) {
	e, err := dialplan.New(dialplan.Config{Path: shippedScript}, discard())
	if err != nil {
		b.Fatal(err)
	}
	heap, stack := bridgedMemory(b, e, 500)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Run(ctx, dialplantest.NewFakeSession("1001", "1002")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(heap, "heap-B/call")
	b.ReportMetric(stack, "stack-B/call")
}

// bridgedMemory starts n calls that wait in call:bridge and returns the
// live heap and goroutine stack bytes they add, per call. A fake session
// is part of the heap figure (about 1 KiB).
func bridgedMemory(b *testing.B, e *dialplan.Engine, n int) (heap, stack float64) {
	ctx, cancel := context.WithCancel(b.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	sessions := make([]*dialplantest.FakeSession, n)
	for i := range sessions {
		s := dialplantest.NewFakeSession("1001", "1002")
		s.Bridges = []dialplantest.BridgeResult{{OK: true, Delay: time.Hour}}
		sessions[i] = s
		wg.Go(func() { _ = e.Run(ctx, s) })
	}
	deadline := time.Now().Add(time.Minute)
	for _, s := range sessions {
		for len(s.Calls()) == 0 { // the bridge is the first call API
			if time.Now().After(deadline) {
				b.Fatal("calls did not reach call:bridge in a minute")
			}
			time.Sleep(time.Millisecond)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	return float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n),
		float64(int64(m1.StackInuse)-int64(m0.StackInuse)) / float64(n)
}
