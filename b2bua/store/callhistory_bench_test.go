package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkArchiveCalls is one call-history flush under call load (issue
// 20: it was a tenth of a call's set-up CPU): 200 changed calls of two legs
// each, a 2 KB story apiece, kept to the last 1000.
func BenchmarkArchiveCalls(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	const calls = 200
	story := make([]byte, 2048)
	batch := make([]ArchivedCall, calls)
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		round++
		for i := range batch {
			id := fmt.Sprintf("call-%d-%d", round%8, i) // the same calls again, as the keeper rewrites changed stories
			batch[i] = ArchivedCall{CallID: id, Legs: []string{id, id + "-b1"}, Updated: time.Now(), Story: story}
		}
		if err := s.ArchiveCalls(ctx, batch, 1000); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls), "ns/call")
}
