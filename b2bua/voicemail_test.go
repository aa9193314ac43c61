package b2bua

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/voicemail"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

type changes struct {
	mu   sync.Mutex
	exts []string
}

func (c *changes) MailboxChanged(ext string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exts = append(c.exts, ext)
}

// voicemailCall serves one call whose script runs vm against mailboxes in
// a fresh store (extension 1002 exists), with the caller speaking 1 s of
// 1000 Hz; during runs alongside.
func voicemailCall(t *testing.T, vm func(ctx context.Context, v dialplan.Voicemailer) error, during func(a *fakeLeg)) (*voicemail.Boxes, *changes, *cdrSink, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "softswitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.AddUser(t.Context(), store.User{Ext: "1002", Realm: "test"}); err != nil {
		t.Fatal(err)
	}
	ch := &changes{}
	logs := &strings.Builder{}
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedBuilder{b: logs, mu: &logMu}, nil))
	boxes := voicemail.New(st, dir, ch, log)
	cdrs := &cdrSink{}
	e := New(Config{DataDir: dir}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		return vm(ctx, s.(dialplan.Voicemailer))
	}), &fakeDialer{}, cdrs, log)
	e.SetVoicemail(boxes)
	a := newFakeLeg("a")
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go speak(ctx, a, 50)
	if during != nil {
		go during(a)
	}
	done := make(chan struct{})
	go func() {
		e.Serve(context.Background(), a, CallInfo{ID: "vm", Caller: "1001", CallerName: "Alice", Destination: "1002"})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("call did not end")
	}
	logMu.Lock()
	defer logMu.Unlock()
	return boxes, ch, cdrs, logs.String()
}

type lockedBuilder struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (l lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// A message ended by silence is stored: one file of the caller's tone,
// one row, one change reported (for MWI); the caller heard greeting and
// beep first.
func TestVoicemailTakesAMessage(t *testing.T) {
	var ok bool
	var reason string
	boxes, ch, cdrs, _ := voicemailCall(t, func(ctx context.Context, v dialplan.Voicemailer) error {
		var err error
		ok, reason, err = v.Voicemail(ctx, "1002", dialplan.VoicemailOptions{Greeting: "beep", Max: 30 * time.Second, Silence: 500 * time.Millisecond})
		return err
	}, nil)
	if !ok {
		t.Fatalf("Voicemail = false, %q", reason)
	}
	msgs, err := boxes.Messages(t.Context(), "1002")
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages = %+v, %v", msgs, err)
	}
	m := msgs[0]
	if m.Caller != "1001" || m.CallerName != "Alice" || m.Heard || m.Duration < 900*time.Millisecond || m.Duration > 1100*time.Millisecond {
		t.Fatalf("message = %+v, want 1 s from 1001, new", m)
	}
	p, err := sounds.LoadFile(boxes.File(m))
	if err != nil {
		t.Fatal(err)
	}
	if f := audiotest.DominantFrequency(p.PCM, 8000, 200, 3800, 10); math.Abs(f-1000) > 20 {
		t.Errorf("message's dominant frequency %.0f Hz, want 1000", f)
	}
	if len(ch.exts) != 1 || ch.exts[0] != "1002" {
		t.Errorf("changes reported: %v, want [1002]", ch.exts)
	}
	if cdrs := cdrs.all(); len(cdrs) != 1 || cdrs[0].Vars["voicemail"] != "1002/"+strconv.FormatInt(m.ID, 10) {
		t.Errorf("CDRs %+v: want vars voicemail=1002/%d", cdrs, m.ID)
	}
}

// The caller hangs up while speaking: the message is kept.
func TestVoicemailKeptOnHangup(t *testing.T) {
	boxes, _, _, _ := voicemailCall(t, func(ctx context.Context, v dialplan.Voicemailer) error {
		_, _, err := v.Voicemail(ctx, "1002", dialplan.VoicemailOptions{Greeting: "beep", Max: 60 * time.Second})
		return err
	}, func(a *fakeLeg) {
		// Greeting and beep take 1 s of real time; then 1.5 s of speaking.
		time.Sleep(2500 * time.Millisecond)
		a.peerHangup(leg.Normal)
	})
	msgs, err := boxes.Messages(t.Context(), "1002")
	if err != nil || len(msgs) != 1 || msgs[0].Duration < time.Second {
		t.Fatalf("messages after a hangup mid-message = %+v, %v; want one", msgs, err)
	}
}

// No such extension: no message, reason not-found, and the log says why.
func TestVoicemailNoMailbox(t *testing.T) {
	var ok bool
	var reason string
	_, ch, _, logs := voicemailCall(t, func(ctx context.Context, v dialplan.Voicemailer) error {
		var err error
		ok, reason, err = v.Voicemail(ctx, "4444", dialplan.VoicemailOptions{Max: time.Second})
		return err
	}, nil)
	if ok || reason != "not-found" || len(ch.exts) != 0 {
		t.Fatalf("Voicemail = %v, %q (changes %v); want nil, not-found", ok, reason, ch.exts)
	}
	if !strings.Contains(logs, "voicemail: no mailbox: extension does not exist") || !strings.Contains(logs, "ext=4444") {
		t.Fatalf("log does not say why:\n%s", logs)
	}
}
