package b2bua

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// toneWAV writes a short 1000 Hz prompt to a file and returns its path.
func toneWAV(t *testing.T, d time.Duration) string {
	t.Helper()
	tone := media.NewTone(1000, -12, 16000)
	pcm := make([]int16, int(d.Seconds()*16000))
	for i := 0; i+320 <= len(pcm); i += 320 {
		tone.Next(pcm[i : i+320])
	}
	p := filepath.Join(t.TempDir(), "tone.wav")
	if err := os.WriteFile(p, sounds.EncodeWAV(&sounds.Prompt{Name: "tone", Rate: 16000, PCM: pcm}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type callCase struct {
	name    string
	targets map[string]dialOutcome
	script  func(ctx context.Context, t *testing.T, s dialplan.Session) error
	during  func(a *fakeLeg) // runs concurrently with the call
	wantA   []string
	cause   string
	side    string
	sip     int
}

func TestCallFlows(t *testing.T) {
	b1 := newFakeLeg("b1")
	b2 := newFakeLeg("b2")
	b3 := newFakeLeg("b3")
	tests := []callCase{
		{name: "answer and hang up", script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
			if err := s.Answer(ctx); err != nil {
				return err
			}
			return s.Hangup(ctx, "")
		}, wantA: []string{"answer", "hangup normal 0"}, cause: "normal", side: "system", sip: 200},
		{name: "busy target", targets: map[string]dialOutcome{"user/1002": {cause: leg.Busy}},
			script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
				ok, why, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
				if ok || why != "busy" || err != nil {
					t.Errorf("bridge = %v %q %v", ok, why, err)
				}
				return s.Hangup(ctx, why)
			}, wantA: []string{"hangup busy 486"}, cause: "busy", side: "system", sip: 486},
		{name: "no answer within the timeout", targets: map[string]dialOutcome{"user/1002": {never: true, progress: []leg.Progress{{Code: 180}}}},
			script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
				ok, why, _ := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{Timeout: 100 * time.Millisecond})
				if ok || why != "no-answer" {
					t.Errorf("bridge = %v %q", ok, why)
				}
				return s.Hangup(ctx, why)
			}, wantA: []string{"180", "hangup no-answer 480"}, cause: "no-answer", side: "system", sip: 480},
		{name: "parallel: busy loses to an answer, callee hangs up", targets: map[string]dialOutcome{
			"user/busy": {cause: leg.Busy}, "user/ok": {after: 30 * time.Millisecond, leg: b1}},
			script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
				go func() { time.Sleep(100 * time.Millisecond); b1.peerHangup(leg.Normal) }()
				ok, _, err := s.Bridge(ctx, []string{"user/busy", "user/ok"}, dialplan.BridgeOptions{})
				if !ok || err != nil {
					t.Errorf("bridge = %v %v", ok, err)
				}
				return nil
			}, wantA: []string{"answer", "hangup normal 0"}, cause: "normal", side: "callee", sip: 200},
		{name: "caller hangs up while ringing", targets: map[string]dialOutcome{"user/1002": {never: true}},
			script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
				_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
				if err == nil {
					t.Error("bridge returned no error after the caller left")
				}
				return err
			},
			during: func(a *fakeLeg) { time.Sleep(50 * time.Millisecond); a.peerHangup(leg.Cancelled) },
			wantA:  []string{"peer hangup"}, cause: "cancelled", side: "caller", sip: 487},
		{name: "caller hangs up during a bridge", targets: map[string]dialOutcome{"user/1002": {leg: b2}},
			script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
				_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
				return err
			},
			during: func(a *fakeLeg) { time.Sleep(80 * time.Millisecond); a.peerHangup(leg.Normal) },
			wantA:  []string{"answer", "peer hangup"}, cause: "normal", side: "caller", sip: 200},
		{name: "script error before answer", script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
			return dialplan.ErrScript
		}, wantA: []string{"hangup failure 500"}, cause: "failure", side: "system", sip: 500},
		{name: "script decides nothing", script: func(ctx context.Context, t *testing.T, s dialplan.Session) error { return nil },
			wantA: []string{"hangup unavailable 480"}, cause: "unavailable", side: "system", sip: 480},
		{name: "unknown target", script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
			ok, why, _ := s.Bridge(ctx, []string{"user/nobody"}, dialplan.BridgeOptions{})
			if ok || why != "not-found" {
				t.Errorf("bridge = %v %q", ok, why)
			}
			return s.Hangup(ctx, why)
		}, wantA: []string{"hangup not-found 404"}, cause: "not-found", side: "system", sip: 404},
		{name: "digits relayed both ways", targets: map[string]dialOutcome{"user/1002": {leg: b3}},
			script: func(ctx context.Context, t *testing.T, s dialplan.Session) error {
				go func() {
					time.Sleep(50 * time.Millisecond)
					b3.events <- leg.Event{Kind: leg.EventDTMF, Digit: '7'}
					time.Sleep(50 * time.Millisecond)
					b3.peerHangup(leg.Normal)
				}()
				_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
				return err
			},
			during: func(a *fakeLeg) {
				time.Sleep(30 * time.Millisecond)
				a.events <- leg.Event{Kind: leg.EventDTMF, Digit: '5'}
			},
			wantA: []string{"answer", "dtmf 7", "hangup normal 0"}, cause: "normal", side: "callee", sip: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdrs := &cdrSink{}
			e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error { return tt.script(ctx, t, s) }),
				&fakeDialer{targets: tt.targets}, cdrs, slog.New(slog.DiscardHandler))
			a := newFakeLeg("a")
			if tt.during != nil {
				go tt.during(a)
			}
			done := make(chan struct{})
			go func() {
				e.Serve(context.Background(), a, CallInfo{ID: "c1", Caller: "1001", Destination: "1002"})
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("call did not end")
			}
			if got := a.history(); !reflect.DeepEqual(got, tt.wantA) {
				t.Fatalf("leg A saw %q, want %q", got, tt.wantA)
			}
			all := cdrs.all()
			if len(all) != 1 {
				t.Fatalf("%d CDRs, want 1", len(all))
			}
			c := all[0]
			if c.Cause != tt.cause || c.Side != tt.side || c.SIPCode != tt.sip || c.CallID != "c1" || c.End.IsZero() {
				t.Fatalf("CDR %+v, want cause %s side %s sip %d", c, tt.cause, tt.side, tt.sip)
			}
			if e.Active() != 0 {
				t.Fatal("call still listed as active")
			}
		})
	}
	if h := b3.history(); len(h) == 0 || h[0] != "dtmf 5" {
		t.Fatalf("caller's digit not relayed to the callee: %q", h)
	}
}

func TestPlayAndCollect(t *testing.T) {
	wav := toneWAV(t, 300*time.Millisecond)
	cdrs := &cdrSink{}
	var digits string
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		if err := s.Answer(ctx); err != nil {
			return err
		}
		if err := s.Play(ctx, wav); err != nil {
			return err
		}
		var err error
		digits, err = s.Collect(ctx, dialplan.CollectOptions{Max: 3, Timeout: time.Second})
		return err
	}), &fakeDialer{}, cdrs, slog.New(slog.DiscardHandler))
	a := newFakeLeg("a")
	go func() {
		time.Sleep(400 * time.Millisecond)
		for _, d := range "12#" {
			a.events <- leg.Event{Kind: leg.EventDTMF, Digit: d}
		}
	}()
	e.Serve(context.Background(), a, CallInfo{ID: "c2"})
	if digits != "12" {
		t.Fatalf("collected %q, want 12 (# ends collection)", digits)
	}
	pcm := a.rec.PCM()
	if len(pcm) < 2000 {
		t.Fatalf("prompt not played: %d samples", len(pcm))
	}
	if f := audiotest.DominantFrequency(pcm, 8000, 200, 3000, 10); f < 980 || f > 1020 {
		t.Fatalf("caller heard %v Hz, want 1000", f)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPlayUnknownPrompt(t *testing.T) {
	var playErr error
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		playErr = s.Play(ctx, "no-such-prompt")
		return nil
	}), &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	e.Serve(context.Background(), newFakeLeg("a"), CallInfo{ID: "c3"})
	if !errors.Is(playErr, sounds.ErrNotFound) {
		t.Fatalf("play error = %v, want ErrNotFound", playErr)
	}
}

// closingLeg is a leg whose peer hangs up while a prompt plays: the
// hangup event is queued and the endpoint closed, so the next frame
// fails with an error wrapping media.ErrClosed, as rtpep's does.
type closingLeg struct {
	*fakeLeg
	frames int
}

func (l *closingLeg) AudioSink() media.Sink { return l }
func (l *closingLeg) Rate() int             { return 8000 }
func (l *closingLeg) String() string        { return "closing" }
func (l *closingLeg) WriteFrame([]int16) error {
	if l.frames++; l.frames == 5 {
		l.peerHangup(leg.Normal)
	}
	if l.frames >= 5 {
		return fmt.Errorf("rtp write frame: %w", media.ErrClosed)
	}
	return nil
}

// The caller hangs up during a prompt: the call ends as the caller's
// hangup, never as a script error on the closed endpoint.
func TestCallerHangsUpDuringPlay(t *testing.T) {
	wav := toneWAV(t, 2*time.Second)
	for i := 0; i < 5; i++ {
		cdrs := &cdrSink{}
		e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
			if err := s.Answer(ctx); err != nil {
				return err
			}
			return s.Play(ctx, wav)
		}), &fakeDialer{}, cdrs, slog.New(slog.DiscardHandler))
		e.Serve(context.Background(), &closingLeg{fakeLeg: newFakeLeg("a")}, CallInfo{ID: "c4"})
		got := cdrs.all()
		if len(got) != 1 || got[0].Side != "caller" || got[0].Cause != "normal" {
			t.Fatalf("run %d: CDR %+v, want the caller's normal hangup", i, got)
		}
	}
}

// The callee's media stops: the caller is hung up first (the callee has
// likely vanished and its BYE may wait out its timeout), cause
// media-timeout in the CDR.
func TestCalleeMediaTimeout(t *testing.T) {
	a, b := newFakeLeg("a"), newFakeLeg("b")
	callerDone := false
	b.onHangup = func() { // the callee's BYE is never answered
		a.mu.Lock()
		callerDone = a.closed
		a.mu.Unlock()
	}
	cdrs := &cdrSink{}
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		go func() { time.Sleep(50 * time.Millisecond); b.events <- leg.Event{Kind: leg.EventMediaTimeout} }()
		_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
		return err
	}), &fakeDialer{targets: map[string]dialOutcome{"user/1002": {leg: b}}}, cdrs, slog.New(slog.DiscardHandler))
	e.Serve(context.Background(), a, CallInfo{ID: "c5"})
	if got := cdrs.all(); len(got) != 1 || got[0].Cause != "media-timeout" || got[0].Side != "system" {
		t.Fatalf("CDR %+v, want media-timeout by the system", got)
	}
	if !callerDone {
		t.Fatal("the silent callee was hung up before the caller")
	}
}
