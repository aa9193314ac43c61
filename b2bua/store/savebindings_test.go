package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// SaveBindings writes a batch in one transaction; a binding of a user that
// was deleted meanwhile is skipped without losing the others.
func TestSaveBindings(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := context.Background()
		s := db.newStore(t)
		addUser(t, s, "1001")
		addUser(t, s, "1002")
		exp := time.UnixMilli(1_900_000_000_000).UTC()
		bs := []Binding{
			{Ext: "1001", Contact: "sip:1001@127.0.0.1:5070", Transport: "udp", CSeq: 2, Expires: exp},
			{Ext: "gone", Contact: "sip:gone@127.0.0.1:5071", Transport: "udp", Expires: exp},
			{Ext: "1002", Contact: "sip:1002@127.0.0.1:5072", Transport: "udp", CSeq: 3, Expires: exp},
		}
		n, err := s.SaveBindings(ctx, bs)
		if err != nil || n != 2 {
			t.Fatalf("SaveBindings = %d, %v; want 2, nil", n, err)
		}
		// A second batch updates in place.
		bs[0].CSeq, bs[0].Expires = 4, exp.Add(time.Minute)
		if n, err := s.SaveBindings(ctx, bs[:1]); err != nil || n != 1 {
			t.Fatalf("SaveBindings update = %d, %v", n, err)
		}
		got, err := s.Bindings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Ext != "1001" || got[0].CSeq != 4 || !got[0].Expires.Equal(exp.Add(time.Minute)) || got[1].Ext != "1002" || got[1].CSeq != 3 {
			t.Fatalf("bindings after batches: %+v", got)
		}
	})
}

// BenchmarkSaveBindings is the cost per binding of a flush of 200
// refreshes (compare BenchmarkSaveBinding, one write per REGISTER).
func BenchmarkSaveBindings(b *testing.B) {
	ctx := context.Background()
	s := newStore(b)
	const users = 200
	bs := make([]Binding, users)
	expires := time.Now().Add(time.Hour)
	for i := range bs {
		ext := fmt.Sprint(1000 + i)
		addUser(b, s, ext)
		bs[i] = Binding{Ext: ext, Contact: "sip:" + ext + "@127.0.0.1:5060", Transport: "udp", Source: "127.0.0.1:5060", CallID: "bench", Expires: expires}
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range bs {
			bs[i].CSeq++
		}
		if _, err := s.SaveBindings(ctx, bs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*users), "ns/binding")
}
