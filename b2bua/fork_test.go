package b2bua

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// One ranking for every branch, devices and targets alike.
func TestBestCause(t *testing.T) {
	tests := []struct {
		in   []leg.Cause
		want string
	}{
		{nil, "unavailable"},
		{[]leg.Cause{leg.Unavailable, leg.Busy}, "busy"},
		{[]leg.Cause{leg.Declined, leg.NotFound}, "declined"},
		{[]leg.Cause{leg.Busy, leg.Declined}, "busy"},
		{[]leg.Cause{leg.Timeout, leg.Congestion}, "timeout"},
		{[]leg.Cause{leg.NoAnswer, leg.Timeout}, "no-answer"},
		{[]leg.Cause{leg.NotFound, leg.Unavailable}, "unavailable"},
		{[]leg.Cause{leg.Congestion, leg.Incompatible}, "incompatible"},
		{[]leg.Cause{leg.Failure, leg.Forbidden}, "failure"},
		{[]leg.Cause{leg.Forbidden, leg.NotFound}, "not-found"},
	}
	for _, tt := range tests {
		if got := bestCause(tt.in); got.Name != tt.want {
			t.Errorf("bestCause(%v) = %s, want %s", tt.in, got.Name, tt.want)
		}
	}
}

// bridgeOnce runs one call whose dialplan bridges to targets and hangs up
// with the reason when nobody answered; it returns what the bridge said.
func bridgeOnce(t *testing.T, d *fakeDialer, targets []string, timeout time.Duration) (a *fakeLeg, ok bool, why string, e *Engine) {
	t.Helper()
	e = New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		var err error
		ok, why, err = s.Bridge(ctx, targets, dialplan.BridgeOptions{Timeout: timeout})
		if err != nil || ok {
			return err
		}
		return s.Hangup(ctx, why)
	}), d, &cdrSink{}, slog.New(slog.DiscardHandler))
	a = newFakeLeg("a")
	done := make(chan struct{})
	go func() {
		e.Serve(context.Background(), a, CallInfo{ID: "f1", Caller: "1001", Authenticated: true})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("call did not end")
	}
	return a, ok, why, e
}

// The devices of one extension fork in the call: a busy device loses to
// one that answers, and when every device and target fails the single
// ranking picks what the caller hears.
func TestForkDevices(t *testing.T) {
	ringing := []leg.Progress{{Code: 180}}
	tests := []struct {
		name    string
		targets map[string]dialOutcome
		dial    []string
		ok      bool
		why     string
		wantA   []string
	}{
		{name: "busy device loses to an answer", targets: map[string]dialOutcome{"user/1002": {devices: []dialOutcome{
			{cause: leg.Busy}, {after: 30 * time.Millisecond, progress: ringing, leg: newFakeLeg("b")}}}},
			dial: []string{"user/1002"}, ok: true, wantA: []string{"180", "answer", "hangup normal 0"}},
		{name: "busy device beats an unreachable one", targets: map[string]dialOutcome{"user/1002": {devices: []dialOutcome{
			{cause: leg.Unavailable}, {after: 20 * time.Millisecond, cause: leg.Busy}}}},
			dial: []string{"user/1002"}, why: "busy", wantA: []string{"hangup busy 486"}},
		{name: "ranked across targets and devices", targets: map[string]dialOutcome{
			"user/1002": {devices: []dialOutcome{{cause: leg.Congestion}, {cause: leg.Timeout}}},
			"user/1003": {resolveErr: &leg.Error{Cause: leg.Unavailable}}},
			dial: []string{"user/1002", "user/1003", "user/nobody"}, why: "timeout", wantA: []string{"hangup timeout 408"}},
		{name: "declined device beats a device ringing out", targets: map[string]dialOutcome{"user/1002": {devices: []dialOutcome{
			{cause: leg.Declined}, {never: true, progress: ringing}}}},
			dial: []string{"user/1002"}, why: "declined", wantA: []string{"180", "hangup declined 603"}},
		{name: "nothing to ring", targets: map[string]dialOutcome{"user/1002": {resolveErr: errors.New("store down")}},
			dial: []string{"user/1002"}, why: "failure", wantA: []string{"hangup failure 500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, o := range tt.targets {
				for _, dev := range o.devices {
					if dev.leg != nil {
						go func(b *fakeLeg) { time.Sleep(100 * time.Millisecond); b.peerHangup(leg.Normal) }(dev.leg)
					}
				}
			}
			a, ok, why, _ := bridgeOnce(t, &fakeDialer{targets: tt.targets}, tt.dial, 300*time.Millisecond)
			if ok != tt.ok || why != tt.why {
				t.Errorf("bridge = %v %q, want %v %q", ok, why, tt.ok, tt.why)
			}
			if got := a.history(); !reflect.DeepEqual(got, tt.wantA) {
				t.Errorf("leg A saw %q, want %q", got, tt.wantA)
			}
		})
	}
}

// A branch that answers after another won (its 200 crossed our CANCEL) is
// hung up, and Shutdown waits for that.
func TestForkLateAnswerHungUp(t *testing.T) {
	win, late := newFakeLeg("win"), newFakeLeg("late")
	go func() { time.Sleep(80 * time.Millisecond); win.peerHangup(leg.Normal) }()
	d := &fakeDialer{targets: map[string]dialOutcome{
		"user/1002": {devices: []dialOutcome{{after: 20 * time.Millisecond, leg: win}, {late: true, leg: late}}}}}
	_, ok, _, e := bridgeOnce(t, d, []string{"user/1002"}, time.Second)
	if !ok {
		t.Fatal("bridge failed")
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := late.history(); !reflect.DeepEqual(got, []string{"hangup normal 0"}) {
		t.Fatalf("late branch saw %q, want a hangup", got)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if got := d.dialed; len(got) != 2 {
		t.Fatalf("dialed %q, want both devices", got)
	}
}

// earlyEP is the media of a branch that sent 183 with SDP.
type earlyEP struct {
	media.Endpoint // only the audio methods are used
	sink           *audiotest.Recorder

	mu      sync.Mutex
	outputs []string
}

func (e *earlyEP) AudioSink() media.Sink { return e.sink }
func (e *earlyEP) SetAudioOutput(s media.Sink) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outputs = append(e.outputs, s.String())
}

func (e *earlyEP) seen() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.outputs...)
}

// Early media of one device reaches the caller (183) while another device
// rings; when a device answers the early media stops.
func TestForkEarlyMediaPerBranch(t *testing.T) {
	ep := &earlyEP{sink: audiotest.NewRecorder(8000)}
	b := newFakeLeg("b")
	go func() { time.Sleep(100 * time.Millisecond); b.peerHangup(leg.Normal) }()
	d := &fakeDialer{targets: map[string]dialOutcome{"user/1002": {devices: []dialOutcome{
		{progress: []leg.Progress{{Code: 183, Early: ep}}, after: 20 * time.Millisecond, cause: leg.Busy},
		{after: 40 * time.Millisecond, leg: b}}}}}
	a, ok, _, _ := bridgeOnce(t, d, []string{"user/1002"}, time.Second)
	if !ok {
		t.Fatal("bridge failed")
	}
	if got := a.history(); len(got) < 2 || got[0] != "183" || got[len(got)-2] != "answer" {
		t.Fatalf("leg A saw %q, want 183 first, then the answer", got)
	}
	out := ep.seen()
	if len(out) < 2 || out[0] == "discard" || out[len(out)-1] != "discard" {
		t.Fatalf("early media outputs %q: want linked to the caller, then discarded", out)
	}
}
