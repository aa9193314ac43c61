package voicemail

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/sounds"
)

type notes struct {
	mu   sync.Mutex
	exts []string
}

func (n *notes) MailboxChanged(ext string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.exts = append(n.exts, ext)
}

func TestBoxes(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "softswitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddUser(ctx, store.User{Ext: "1002", Realm: "r"}); err != nil {
		t.Fatal(err)
	}
	n := &notes{}
	b := New(st, dir, n, slog.New(slog.DiscardHandler))
	if ok, err := b.Exists(ctx, "1002"); !ok || err != nil {
		t.Fatalf("Exists(1002) = %v, %v", ok, err)
	}
	if g := b.Greeting("1002"); g != DefaultGreeting {
		t.Fatalf("greeting without a file = %q", g)
	}
	own := filepath.Join(dir, "voicemail", "1002", "greeting.wav")
	if err := os.MkdirAll(filepath.Dir(own), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(own, sounds.EncodeWAV(&sounds.Prompt{Rate: 8000, PCM: make([]int16, 800)}), 0o644); err != nil {
		t.Fatal(err)
	}
	if g := b.Greeting("1002"); g != own {
		t.Fatalf("greeting = %q, want %s", g, own)
	}
	if g := b.Greeting(".."); g != DefaultGreeting {
		t.Fatalf("greeting of .. = %q", g)
	}
	if ok, err := b.Exists(ctx, "4444"); ok || err != nil {
		t.Fatalf("Exists(4444) = %v, %v", ok, err)
	}
	pcm := make([]int16, 8000)
	for i := range pcm {
		pcm[i] = int16(i % 100 * 100)
	}
	m, err := b.Deposit(ctx, store.Voicemail{Ext: "1002", Caller: "1001"}, pcm)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sounds.LoadFile(b.File(m))
	if err != nil || p.Rate != Rate || !slices.Equal(p.PCM, pcm) {
		t.Fatalf("message file: %v, rate %d; want the PCM as deposited", err, p.Rate)
	}
	if rel, _ := filepath.Rel(dir, b.File(m)); filepath.Dir(rel) != filepath.Join("voicemail", "1002") {
		t.Fatalf("message file %s, want it under voicemail/1002", rel)
	}
	if _, err := b.Deposit(ctx, store.Voicemail{Ext: ".."}, pcm); !errors.Is(err, ErrNoMailbox) {
		t.Fatalf("Deposit for .. = %v, want ErrNoMailbox", err)
	}
	if err := b.MarkHeard(ctx, "1002", m.ID); err != nil {
		t.Fatal(err)
	}
	if newMsgs, old, err := b.Counts(ctx, "1002"); newMsgs != 0 || old != 1 || err != nil {
		t.Fatalf("counts %d/%d, %v", newMsgs, old, err)
	}
	if err := b.Delete(ctx, "1002", m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.File(m)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file after Delete: %v", err)
	}
	if err := b.Delete(ctx, "1002", m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete twice = %v, want ErrNotFound", err)
	}
	if !slices.Equal(n.exts, []string{"1002", "1002", "1002"}) {
		t.Fatalf("changes reported %v, want deposit, heard, delete of 1002", n.exts)
	}
}
