package callstory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// failOnce refuses the first archive, then passes to the store.
type failOnce struct {
	*store.Store
	failed bool
}

func (f *failOnce) ArchiveCalls(ctx context.Context, calls []store.ArchivedCall, keep int) error {
	if !f.failed {
		f.failed = true
		return errors.New("disk full")
	}
	return f.Store.ArchiveCalls(ctx, calls, keep)
}

// Stories reach the database as they change, are found by any leg after a
// restart, are pruned to the history, and a failed write is retried.
func TestKeeperArchivesAcrossRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	arch := &failOnce{Store: openStore(t, path)}
	r := NewRecorder(2)
	k := NewKeeper(r, arch, quiet)
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "c1", "1 INVITE", g729Offer)})
	r.Link("c1", "c1-b")
	if err := k.Flush(ctx); err == nil {
		t.Fatal("the failing archive was not reported")
	}
	feed(r, step{3, false, msg("SIP/2.0 488 Not Acceptable Here", "c1", "1 INVITE", "")})
	if err := k.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Flush(ctx); err != nil { // nothing changed: nothing written
		t.Fatal(err)
	}
	r.SetMedia("c1", []LegMedia{{Leg: "A", Kind: "rtp", PacketsSent: 3}})
	if err := k.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// A restart: a new recorder, the same database.
	again := NewKeeper(NewRecorder(2), openStore(t, path), quiet)
	st, err := again.Story(ctx, "c1-b")
	if err != nil {
		t.Fatal(err)
	}
	if st.CallID != "c1" || len(st.Legs) != 2 || len(st.Entries) != 2 || len(st.Media) != 1 || st.Media[0].PacketsSent != 3 {
		t.Fatalf("archived story %+v", st)
	}
	if v := st.Verdicts(t0); len(v) != 1 || !strings.HasPrefix(v[0], "488 on leg A") {
		t.Fatalf("verdicts of the archived story: %q", v)
	}
	if _, err := again.Story(ctx, "never"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("Story(never) = %v, want ErrUnknownCall", err)
	}

	// Two newer calls push c1 out of a history of 2, in the database too.
	for _, id := range []string{"c2", "c3"} {
		feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", id, "1 INVITE", "")})
	}
	if err := k.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := again.Story(ctx, "c1"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("c1 beyond the history: %v", err)
	}
	if _, err := again.Story(ctx, "c2"); err != nil {
		t.Fatalf("c2: %v", err)
	}
}

// Run archives what changed once its context ends.
func TestKeeperRunArchivesAtStop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	r := NewRecorder(5)
	k := NewKeeper(r, openStore(t, path), quiet)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Run(ctx)
	}()
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "last", "1 INVITE", "")})
	cancel()
	<-done
	if _, err := NewKeeper(NewRecorder(5), openStore(t, path), quiet).Story(t.Context(), "last"); err != nil {
		t.Fatalf("the last call was not archived at stop: %v", err)
	}
}

func TestDecodeStory(t *testing.T) {
	st := Story{CallID: "c", Legs: []string{"c"}}
	for range maxEntries + 3 {
		st.Entries = append(st.Entries, Entry{FirstLine: "INFO x SIP/2.0"})
	}
	b, err := EncodeStory(st)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeStory(b)
	if err != nil || len(got.Entries) != maxEntries || got.Dropped != 3 {
		t.Fatalf("DecodeStory = %d entries, %d dropped, %v", len(got.Entries), got.Dropped, err)
	}
	for _, bad := range []string{"", "{", `{"CallID":"x"}`, `{"Legs":["a"]}`, `[]`} {
		if _, err := DecodeStory([]byte(bad)); err == nil {
			t.Errorf("DecodeStory(%q) accepted", bad)
		}
	}
}

// Whatever the database holds, DecodeStory refuses it or returns a
// bounded story that renders: never a panic.
func FuzzDecodeStory(f *testing.F) {
	r := NewRecorder(5)
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "c", "1 INVITE", "v=0\r\nc=IN IP4 10.0.0.1\r\n")})
	r.Link("c", "b")
	st, _ := r.Story("c")
	b, _ := EncodeStory(st)
	f.Add(b)
	f.Add([]byte(`{"CallID":"x","Legs":["x"],"Entries":[{"Closed":true,"Transport":"wss"}],"Media":[{"Leg":"A"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := DecodeStory(data)
		if err != nil {
			return
		}
		if len(st.Entries) > maxEntries || len(st.Legs) > maxLegs || len(st.Media) > maxLegs {
			t.Fatalf("unbounded: %d entries, %d legs, %d media", len(st.Entries), len(st.Legs), len(st.Media))
		}
		_ = st.Render(io.Discard, t0)
		_ = fmt.Sprint(st.Verdicts(t0))
	})
}

// failing refuses every archive until told otherwise.
type failing struct {
	*store.Store
	mu   sync.Mutex
	fail bool
}

func (f *failing) ArchiveCalls(ctx context.Context, calls []store.ArchivedCall, keep int) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return f.Store.ArchiveCalls(ctx, calls, keep)
}

// A database that refuses writes is logged once, not at every flush, and
// its recovery once; nothing recorded meanwhile is lost.
func TestKeeperLogsFailureOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	arch := &failing{Store: openStore(t, path), fail: true}
	var logs strings.Builder
	var mu sync.Mutex
	text := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	r := NewRecorder(5)
	k := NewKeeper(r, arch, slog.New(slog.NewTextHandler(&lockedBuilder{mu: &mu, b: &logs}, nil)))
	k.every = time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	archived := func(id string) bool {
		_, err := arch.ArchivedCall(t.Context(), id)
		return err == nil
	}
	for i := range 20 { // a change at each of many failing flushes
		feed(r, step{i, true, msg("INVITE sip:x@h SIP/2.0", fmt.Sprint("c", i), "1 INVITE", "")})
		time.Sleep(2 * time.Millisecond)
	}
	if !strings.Contains(text(), "not archived") {
		waitUntil(t, func() bool { return strings.Contains(text(), "not archived") })
	}
	arch.mu.Lock()
	arch.fail = false
	arch.mu.Unlock()
	waitUntil(t, func() bool { return archived("c19") && strings.Contains(text(), "archived again") })
	if n := strings.Count(text(), "not archived"); n != 1 {
		t.Errorf("%d failure lines, want 1:\n%s", n, text())
	}
	if n := strings.Count(text(), "archived again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, text())
	}
	for i := 15; i < 20; i++ { // the history keeps the last 5
		if !archived(fmt.Sprint("c", i)) {
			t.Errorf("c%d lost while the database refused writes", i)
		}
	}
}

// waitUntil polls cond for up to 10 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

type lockedBuilder struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// An ended call's story leaves memory once archived and endedInMemory has
// passed; the Keeper then finds it in the archive, by any leg. A live
// call's, or one changed since its archiving, stays.
func TestKeeperForgetsEndedArchivedStories(t *testing.T) {
	ctx := t.Context()
	r := NewRecorder(10)
	k := NewKeeper(r, openStore(t, filepath.Join(t.TempDir(), "db")), quiet)
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "ended", "1 INVITE", g729Offer)})
	r.Link("ended", "ended-b")
	feed(r, step{0, true, msg("INVITE sip:y@h SIP/2.0", "live", "1 INVITE", g729Offer)})
	r.SetMedia("ended", []LegMedia{{Leg: "A", PacketsSent: 7}})
	if err := k.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Story("ended"); !ok {
		t.Fatal("a call that just ended left memory at once")
	}
	later := time.Now().Add(endedInMemory)
	r.SetMedia("live", nil) // ends now, not archived yet: stays however late
	r.ended["live"] = later.Add(-2 * endedInMemory)
	r.forgetArchived(later, endedInMemory)
	if _, ok := r.Story("ended-b"); ok {
		t.Error("an ended, archived story is still in memory")
	}
	if _, ok := r.Story("live"); !ok {
		t.Error("a story changed since its archiving left memory")
	}
	if len(r.order) != 1 || r.order[0] != "live" || len(r.legs) != 1 || len(r.ended) != 1 {
		t.Errorf("memory kept order %v, legs %v, ended %v", r.order, r.legs, r.ended)
	}
	st, err := k.Story(ctx, "ended-b")
	if err != nil || st.CallID != "ended" || len(st.Media) != 1 || st.Media[0].PacketsSent != 7 {
		t.Fatalf("the archive's story of a forgotten call: %+v, %v", st, err)
	}
}

// A keeper's tick archives a story once it settled: not while its set-up
// burst is still coming, at once when the call ended, and at the latest
// settleWait after a change when it keeps changing (issue 20).
func TestSettledStoriesArchived(t *testing.T) {
	r := NewRecorder(10)
	now := time.Now()
	ids := func(sts []Story) []string {
		var out []string
		for _, st := range sts {
			out = append(out, st.CallID)
		}
		return out
	}
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "a", "1 INVITE", "")})
	if got := r.takeSettled(now); len(got) != 0 {
		t.Fatalf("archived while changing: %v", ids(got))
	}
	if got := ids(r.takeSettled(now.Add(time.Second))); len(got) != 1 || got[0] != "a" {
		t.Fatalf("settled story not archived: %v", got)
	}
	if got := r.takeSettled(now.Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("unchanged story archived again: %v", ids(got))
	}
	feed(r, step{1000, true, msg("BYE sip:x@h SIP/2.0", "a", "2 BYE", "")})
	r.SetMedia("a", nil)
	if got := ids(r.takeSettled(now.Add(3 * time.Second))); len(got) != 1 {
		t.Fatalf("ended call not archived at once: %v", got)
	}
	// A call that changes at every tick is archived after settleWait.
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "b", "1 INVITE", "")})
	start := time.Now()
	for i := 1; ; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		feed(r, step{i * 1000, true, msg("INFO sip:x@h SIP/2.0", "b", fmt.Sprint(i+1, " INFO"), "")})
		got := r.takeSettled(at)
		if len(got) == 1 {
			if at.Sub(start) < settleWait {
				t.Fatalf("archived after %v, before settleWait", at.Sub(start))
			}
			break
		}
		if at.Sub(start) > settleWait+time.Second {
			t.Fatal("a story changing at every tick never archived")
		}
	}
	// Flush (a stop) takes all that changed, settled or not.
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "c", "1 INVITE", "")})
	if got := ids(r.takeChanged()); len(got) != 1 || got[0] != "c" {
		t.Fatalf("takeChanged: %v", got)
	}
}

// kept remembers copies of what was archived.
type kept struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

func (k *kept) ArchiveCalls(_ context.Context, calls []store.ArchivedCall, _ int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range calls {
		k.blobs[c.CallID] = append([]byte(nil), c.Story...)
	}
	return nil
}

func (k *kept) ArchivedCall(context.Context, string) (store.ArchivedCall, error) {
	return store.ArchivedCall{}, store.ErrNotFound
}

// A flush encodes its stories into one shared buffer: each archived
// story is exactly EncodeStory's form of the story as it stood, whatever
// was recorded after the flush took it (issue 20).
func TestFlushEncodesEachStory(t *testing.T) {
	r := NewRecorder(10)
	arch := &kept{blobs: map[string][]byte{}}
	k := NewKeeper(r, arch, quiet)
	want := map[string][]byte{}
	for round, ids := range [][]string{{"x1", "x2", "x3"}, {"y1"}} {
		for i, id := range ids {
			feed(r, step{i, true, msg("INVITE sip:x@h SIP/2.0", id, "1 INVITE", "v=0\r\nc=IN IP4 10.0.0.1\r\n")})
			for n := range i * 10 {
				feed(r, step{n, false, msg("SIP/2.0 180 Ringing", id, "1 INVITE", "")})
			}
			r.Link(id, id+"-b")
		}
		taken := r.takeChanged()
		for _, st := range taken {
			b, err := EncodeStory(st)
			if err != nil {
				t.Fatal(err)
			}
			want[st.CallID] = b
		}
		// Recorded after the flush took its snapshots: not in them.
		for _, id := range ids {
			feed(r, step{99, true, msg("BYE sip:x@h SIP/2.0", id, "2 BYE", "")})
			r.Link(id, id+"-c")
		}
		if err := k.flush(t.Context(), taken); err != nil {
			t.Fatal(err)
		}
		if len(arch.blobs) != len(want) {
			t.Fatalf("round %d: %d stories archived, want %d", round, len(arch.blobs), len(want))
		}
		for id, b := range want {
			if string(arch.blobs[id]) != string(b) {
				t.Fatalf("round %d: %s archived as\n%s\nwant\n%s", round, id, arch.blobs[id], b)
			}
		}
		for _, id := range ids {
			st, err := DecodeStory(arch.blobs[id])
			if err != nil || len(st.Legs) != 2 || st.Entries[len(st.Entries)-1].Method == "BYE" {
				t.Fatalf("round %d: %s decoded as %+v, %v", round, id, st, err)
			}
		}
	}
}
