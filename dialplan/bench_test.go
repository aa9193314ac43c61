package dialplan_test

import (
	"testing"

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
