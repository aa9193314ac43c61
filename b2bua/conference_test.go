package b2bua

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// confEngine runs every call into room with o and records the outcome.
func confEngine(t *testing.T, room string, o dialplan.ConferenceOptions) (*Engine, *sync.Map) {
	t.Helper()
	var outcomes sync.Map
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		ok, why, err := s.(dialplan.Conferencer).Conference(ctx, room, o)
		outcomes.Store(s.ID(), why)
		if err != nil || !ok {
			return err
		}
		return nil
	}), &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	return e, &outcomes
}

// sendTone writes freq into l's output (the mixer member) every 20 ms
// until stop closes.
func sendTone(l *fakeLeg, freq float64, stop <-chan struct{}) {
	tone := media.NewTone(freq, -12, 8000)
	frame := make([]int16, 160)
	tk := time.NewTicker(media.FrameDuration)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tk.C:
		}
		if out := l.output(); out != nil && strings.HasPrefix(out.String(), "mixer(") {
			tone.Next(frame)
			_ = out.WriteFrame(frame)
		}
	}
}

func waitMembers(t *testing.T, e *Engine, room string, n int) ConfRoom {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := e.Conference(room); err == nil && len(r.Members) == n {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("room %s never had %d members: %+v", room, n, e.Conferences())
	return ConfRoom{}
}

func TestConferenceTwoCallsHearEachOther(t *testing.T) {
	e, _ := confEngine(t, "3000", dialplan.ConferenceOptions{Gain: 0.5})
	a, b := newFakeLeg("a"), newFakeLeg("b")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { e.Serve(context.Background(), a, CallInfo{ID: "a", Caller: "1001"}) })
	waitMembers(t, e, "3000", 1)
	wg.Go(func() { e.Serve(context.Background(), b, CallInfo{ID: "b", Caller: "1002"}) })
	room := waitMembers(t, e, "3000", 2)
	if room.Members[0].Caller != "1001" || room.Members[1].ID != "2" || room.Rate != 16000 || room.Members[0].Gain != 0.5 {
		t.Errorf("room %+v", room)
	}
	wg.Go(func() { sendTone(a, 440, stop) })
	wg.Go(func() { sendTone(b, 1000, stop) })
	time.Sleep(4 * time.Second) // a hears "you are the only participant" first
	// Talking is the last tick's: a late frame makes one tick silent.
	seen := [2]bool{}
	for deadline := time.Now().Add(5 * time.Second); !(seen[0] && seen[1]) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r, _ := e.Conference("3000")
		for i, m := range r.Members {
			seen[i] = seen[i] || m.Talking
		}
	}
	if !seen[0] || !seen[1] {
		t.Errorf("members never seen talking: %v", seen)
	}
	// What each heard so far, both tones still going: the end of the call
	// (mute, hangups) cuts the tones, and a cut spreads over every frequency.
	heard := map[*fakeLeg][]int16{a: a.rec.PCM(), b: b.rec.PCM()}
	if err := e.ConfMute("3000", "1002", true); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.Conference("3000"); !r.Members[1].Muted {
		t.Errorf("1002 not muted: %+v", r.Members)
	}
	close(stop)
	a.peerHangup(leg.Normal)
	b.peerHangup(leg.Normal)
	wg.Wait()
	for _, tc := range []struct {
		l         *fakeLeg
		hear, own float64
	}{{a, 1000, 440}, {b, 440, 1000}} {
		pcm := heard[tc.l]
		pcm = pcm[len(pcm)-8000:] // the last second before the mute
		if f := audiotest.DominantFrequency(pcm, 8000, 200, 3000, 10); f < tc.hear-10 || f > tc.hear+10 {
			t.Errorf("%s hears %v Hz, want %v", tc.l.id, f, tc.hear)
		}
		own := audiotest.Goertzel(pcm, 8000, tc.own)
		if own > 1e-6 { // -60 dB
			t.Errorf("%s hears its own %v Hz (power %g)", tc.l.id, tc.own, own)
		}
	}
	if n := len(e.Conferences()); n != 0 {
		t.Errorf("%d rooms left after everyone hung up", n)
	}
	if err := e.ConfKick("3000", "1"); err == nil {
		t.Error("kick in a closed room succeeded")
	}
}

func TestConferenceWrongPINFullAndKick(t *testing.T) {
	e, outcomes := confEngine(t, "pinroom", dialplan.ConferenceOptions{PIN: "4711", Max: 1})
	bad := newFakeLeg("bad")
	for range 3 {
		for _, d := range "12#" {
			bad.events <- leg.Event{Kind: leg.EventDTMF, Digit: d}
		}
	}
	e.Serve(context.Background(), bad, CallInfo{ID: "bad"})
	if why, _ := outcomes.Load("bad"); why != dialplan.ConfWrongPIN {
		t.Errorf("3 wrong PINs: outcome %v, want %s", why, dialplan.ConfWrongPIN)
	}
	if h := bad.history(); !strings.HasPrefix(h[len(h)-1], "hangup") {
		t.Errorf("caller with wrong PINs not released: %q", h)
	}

	in := newFakeLeg("in")
	for _, d := range "4711#" {
		in.events <- leg.Event{Kind: leg.EventDTMF, Digit: d}
	}
	var wg sync.WaitGroup
	wg.Go(func() { e.Serve(context.Background(), in, CallInfo{ID: "in", Caller: "1001"}) })
	waitMembers(t, e, "pinroom", 1)
	full := newFakeLeg("full")
	for _, d := range "4711#" {
		full.events <- leg.Event{Kind: leg.EventDTMF, Digit: d}
	}
	e.Serve(context.Background(), full, CallInfo{ID: "full"})
	if why, _ := outcomes.Load("full"); why != dialplan.ConfFull {
		t.Errorf("second caller in a room of max 1: outcome %v, want %s", why, dialplan.ConfFull)
	}
	if err := e.ConfKick("pinroom", "nobody"); err == nil {
		t.Error("kicking nobody succeeded")
	}
	if err := e.ConfKick("pinroom", "1001"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if why, _ := outcomes.Load("in"); why != dialplan.ConfKicked {
		t.Errorf("kicked caller: outcome %v, want %s", why, dialplan.ConfKicked)
	}
	if got := e.Conferences(); len(got) != 0 {
		t.Errorf("rooms after all left: %+v", got)
	}
}

// DTMF in a room: *5 from the moderator locks it (a later caller hears
// "locked" and is released), *6 mutes and unmutes.
func TestConferenceDTMFLockAndMute(t *testing.T) {
	var outcomes sync.Map
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		_, why, err := s.(dialplan.Conferencer).Conference(ctx, "dtmf", dialplan.ConferenceOptions{Moderator: s.Caller() == "mod"})
		outcomes.Store(s.ID(), why)
		return err
	}), &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	mod := newFakeLeg("mod")
	var wg sync.WaitGroup
	wg.Go(func() { e.Serve(context.Background(), mod, CallInfo{ID: "mod", Caller: "mod"}) })
	waitMembers(t, e, "dtmf", 1)
	state := func() ConfRoom {
		r, err := e.Conference("dtmf")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	digits := func(l *fakeLeg, ds string) {
		for _, d := range ds {
			l.events <- leg.Event{Kind: leg.EventDTMF, Digit: d}
		}
	}
	waitState := func(what string, cond func(ConfRoom) bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(state()); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("room never %s: %+v", what, state())
			}
		}
	}
	digits(mod, "6*5") // a 6 without * does nothing
	waitState("locked", func(r ConfRoom) bool { return r.Locked })
	if state().Members[0].Muted {
		t.Error("a 6 without * muted the member")
	}
	late := newFakeLeg("late")
	e.Serve(context.Background(), late, CallInfo{ID: "late", Caller: "late"})
	if why, _ := outcomes.Load("late"); why != dialplan.ConfLocked {
		t.Errorf("caller to a locked room: outcome %v, want %s", why, dialplan.ConfLocked)
	}
	digits(mod, "*6")
	waitState("muted", func(r ConfRoom) bool { return r.Members[0].Muted })
	digits(mod, "*6*5")
	waitState("unmuted and unlocked", func(r ConfRoom) bool { return !r.Members[0].Muted && !r.Locked })
	// *7: the moderator kicks the member who joined last; from anyone
	// else it kicks nobody.
	for _, id := range []string{"second", "third"} {
		l := newFakeLeg(id)
		wg.Go(func() { e.Serve(context.Background(), l, CallInfo{ID: id, Caller: id}) })
		waitState(id+" in", func(r ConfRoom) bool { return len(r.Members) == map[string]int{"second": 2, "third": 3}[id] })
		if id == "third" {
			digits(l, "*7")
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(state().Members); n != 3 {
		t.Fatalf("a non-moderator's *7 changed the room: %d members", n)
	}
	digits(mod, "*7")
	waitState("without the last to join", func(r ConfRoom) bool {
		return len(r.Members) == 2 && r.Members[1].Caller == "second"
	})
	mod.peerHangup(leg.Normal)
	for _, id := range []string{"second", "third"} {
		_ = e.ConfKick("dtmf", id) // the one left
	}
	wg.Wait()
	if why, _ := outcomes.Load("third"); why != dialplan.ConfKicked {
		t.Errorf("the last to join: outcome %v, want %s", why, dialplan.ConfKicked)
	}
}
