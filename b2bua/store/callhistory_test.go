package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Archived calls are found by any leg's Call-ID, replaced when archived
// again, pruned to the newest N, and kept across a reopen.
func TestCallHistory(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		path := db.location(t)
		st := db.openAt(t, path)
		now := time.Now().Truncate(time.Millisecond).UTC()
		if _, err := st.ArchivedCall(ctx, "none"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("ArchivedCall of nothing = %v, want ErrNotFound", err)
		}
		var calls []ArchivedCall
		for i := range 4 {
			id := fmt.Sprint("c", i)
			calls = append(calls, ArchivedCall{CallID: id, Legs: []string{id, id + "-b1", id + "-b2"}, Updated: now, Story: []byte("story " + id)})
		}
		if err := st.ArchiveCalls(ctx, calls[:3], 3); err != nil {
			t.Fatal(err)
		}
		// c0 archived again (grown): now the newest, so c1 goes when c3 comes.
		calls[0].Story, calls[0].Legs = []byte("story c0 v2"), []string{"c0-b1", "c0-b3"}
		if err := st.ArchiveCalls(ctx, []ArchivedCall{calls[0], calls[3]}, 3); err != nil {
			t.Fatal(err)
		}
		if n, err := st.ArchivedCallCount(ctx); err != nil || n != 3 {
			t.Fatalf("ArchivedCallCount = %d, %v; want 3", n, err)
		}
		for _, gone := range []string{"c1", "c1-b1", "c0-b2"} {
			if _, err := st.ArchivedCall(ctx, gone); !errors.Is(err, ErrNotFound) {
				t.Errorf("ArchivedCall(%s) = %v, want ErrNotFound", gone, err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st = db.openAt(t, path)
		got, err := st.ArchivedCall(ctx, "c0-b3")
		if err != nil || got.CallID != "c0" || string(got.Story) != "story c0 v2" || !got.Updated.Equal(now) ||
			!slices.Equal(got.Legs, []string{"c0", "c0-b1", "c0-b3"}) {
			t.Fatalf("ArchivedCall(c0-b3) = %+v, %v", got, err)
		}
		if got, err := st.ArchivedCall(ctx, "c2"); err != nil || string(got.Story) != "story c2" {
			t.Fatalf("ArchivedCall(c2) = %+v, %v", got, err)
		}
		if err := st.ArchiveCalls(ctx, []ArchivedCall{{Story: []byte("x")}}, 3); err == nil {
			t.Fatal("a call without an id was archived")
		}
		if n, err := st.ArchivedCallCount(ctx); err != nil || n != 3 {
			t.Fatalf("a failed archive changed the count: %d, %v", n, err)
		}
	})
}
