package registrar

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

func newFlushFixture(t *testing.T) (*Registrar, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "softswitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.AddUser(context.Background(), store.User{Ext: "1001", Realm: "softswitch"}); err != nil {
		t.Fatal(err)
	}
	return New(Limits{}, st, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil))), st
}

func stored(t *testing.T, st *store.Store) []store.Binding {
	t.Helper()
	bs, err := st.Bindings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func register(t *testing.T, r *Registrar, now time.Time, cseq uint32, source string, expires int) {
	t.Helper()
	upd := update{ext: "1001", callID: "call-a", cseq: cseq, transport: "udp", source: source, now: now,
		contacts: []contact{{uri: "sip:1001@127.0.0.1:5070", expires: expires}}}
	if _, rej := r.commit(context.Background(), upd); rej != nil {
		t.Fatalf("commit cseq %d: %d %s", cseq, rej.code, rej.reason)
	}
}

// A new binding is written at once; a refresh that changes only its
// expiry waits for Flush; a binding removed while its refresh waits is not
// written back by the Flush.
func TestRefreshesWaitForFlush(t *testing.T) {
	ctx := context.Background()
	r, st := newFlushFixture(t)
	t0 := time.Now().Truncate(time.Millisecond)

	register(t, r, t0, 1, "127.0.0.1:5070", 600)
	if bs := stored(t, st); len(bs) != 1 || !bs[0].Expires.Equal(t0.Add(600*time.Second)) {
		t.Fatalf("new binding not written at once: %+v", bs)
	}

	t1 := t0.Add(30 * time.Second)
	register(t, r, t1, 2, "127.0.0.1:5070", 600)
	if bs := stored(t, st); len(bs) != 1 || bs[0].CSeq != 1 {
		t.Fatalf("refresh written before Flush: %+v", bs)
	}
	r.Flush(ctx)
	if bs := stored(t, st); len(bs) != 1 || bs[0].CSeq != 2 || !bs[0].Expires.Equal(t1.Add(600*time.Second)) {
		t.Fatalf("refresh not written by Flush: %+v", bs)
	}
	// A restart restores what was flushed.
	r2 := New(Limits{}, st, nil, nil, r.log)
	if err := r2.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if bs := r2.Lookup("1001"); len(bs) != 1 || bs[0].CSeq != 2 {
		t.Fatalf("restored after flush: %+v", bs)
	}

	// A new source is no mere refresh: written at once.
	register(t, r, t1.Add(time.Second), 3, "127.0.0.1:6000", 600)
	if bs := stored(t, st); len(bs) != 1 || bs[0].Source != "127.0.0.1:6000" {
		t.Fatalf("changed source not written at once: %+v", bs)
	}

	register(t, r, t1.Add(2*time.Second), 4, "127.0.0.1:6000", 600) // pending
	register(t, r, t1.Add(3*time.Second), 5, "127.0.0.1:6000", 0)   // unregister
	r.Flush(ctx)
	if bs := stored(t, st); len(bs) != 0 {
		t.Fatalf("removed binding written back by Flush: %+v", bs)
	}
	if len(r.pending) != 0 {
		t.Fatalf("pending after flush: %v", r.pending)
	}
}

// Run writes the refreshes still pending when its context ends.
func TestRunFlushesOnStop(t *testing.T) {
	r, st := newFlushFixture(t)
	t0 := time.Now().Truncate(time.Millisecond)
	register(t, r, t0, 1, "127.0.0.1:5070", 600)
	register(t, r, t0.Add(time.Second), 2, "127.0.0.1:5070", 900)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if bs := stored(t, st); len(bs) != 1 || bs[0].CSeq != 2 {
		t.Fatalf("pending refresh lost at stop: %+v", bs)
	}
}
