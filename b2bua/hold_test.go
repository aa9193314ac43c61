package b2bua

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// mohNotes are the notes of the bundled music on hold (sounds/README.md).
var mohNotes = []float64{523.25, 659.25, 783.99}

// mohShare is the part of pcm's energy at the music's notes, against the
// music plus the 440 Hz the tests' callee sends.
func mohShare(pcm []int16, rate int) float64 {
	var music float64
	for _, f := range mohNotes {
		music += audiotest.Goertzel(pcm, rate, f)
	}
	return music / (music + audiotest.Goertzel(pcm, rate, 440) + 1e-12)
}

// listen clears rec, waits d and returns what it got meanwhile.
func listen(rec *audiotest.Recorder, d time.Duration) []int16 {
	rec.Reset()
	time.Sleep(d)
	return rec.PCM()
}

// The callee holds: the caller hears music on hold instead of the
// callee, then the callee again on resume; then the caller holds and the
// callee hears the music until the caller resumes.
func TestMusicOnHold(t *testing.T) {
	a, b := newFakeLeg("a"), newFakeLeg("b")
	bridged := make(chan struct{})
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		close(bridged)
		_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
		return err
	}), &fakeDialer{targets: map[string]dialOutcome{"user/1002": {leg: b}}}, &cdrSink{}, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { defer close(done); e.Serve(context.Background(), a, CallInfo{ID: "moh"}) }()
	<-bridged
	waitFor(t, func() bool { return b.output() != nil })

	// The callee talks (440 Hz) for the whole test, 20 ms a frame.
	talk, stopTalk := context.WithCancel(context.Background())
	talked := make(chan struct{})
	go func() {
		defer close(talked)
		tone := media.NewTone(440, -12, 8000)
		frame := make([]int16, 160)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for talk.Err() == nil {
			tone.Next(frame)
			_ = b.output().WriteFrame(frame)
			select {
			case <-tick.C:
			case <-talk.Done():
			}
		}
	}()
	defer func() { stopTalk(); <-talked }()

	if s := mohShare(listen(a.rec, 400*time.Millisecond), 8000); s > 0.1 {
		t.Fatalf("before hold, music is %.2f of what the caller hears", s)
	}
	b.events <- leg.Event{Kind: leg.EventHold}
	time.Sleep(100 * time.Millisecond)
	if s := mohShare(listen(a.rec, 1500*time.Millisecond), 8000); s < 0.9 {
		t.Fatalf("callee holds: music is only %.2f of what the caller hears", s)
	}
	b.events <- leg.Event{Kind: leg.EventResume}
	time.Sleep(100 * time.Millisecond)
	pcm := listen(a.rec, 400*time.Millisecond)
	if s := mohShare(pcm, 8000); s > 0.1 {
		t.Fatalf("after resume, music is still %.2f of what the caller hears", s)
	}
	if f := audiotest.DominantFrequency(pcm, 8000, 200, 3000, 5); f < 430 || f > 450 {
		t.Fatalf("after resume the caller hears %v Hz, want the callee's 440", f)
	}

	a.events <- leg.Event{Kind: leg.EventHold}
	time.Sleep(100 * time.Millisecond)
	if s := mohShare(listen(b.rec, 1500*time.Millisecond), 8000); s < 0.9 {
		t.Fatalf("caller holds: music is only %.2f of what the callee hears", s)
	}
	a.events <- leg.Event{Kind: leg.EventResume}
	time.Sleep(100 * time.Millisecond)
	if pcm := listen(b.rec, 400*time.Millisecond); audiotest.RMSdBFS(pcm) > -60 {
		t.Fatalf("after the caller resumed the callee still hears %.1f dBFS", audiotest.RMSdBFS(pcm))
	}
	b.peerHangup(leg.Normal)
	<-done
}

// With moh: off, a hold plays nothing: the held party hears what the
// holder sends.
func TestMusicOnHoldOff(t *testing.T) {
	a, b := newFakeLeg("a"), newFakeLeg("b")
	bridged := make(chan struct{})
	e := New(Config{MOH: MOHOff}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		close(bridged)
		_, _, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
		return err
	}), &fakeDialer{targets: map[string]dialOutcome{"user/1002": {leg: b}}}, &cdrSink{}, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { defer close(done); e.Serve(context.Background(), a, CallInfo{ID: "moh-off"}) }()
	<-bridged
	waitFor(t, func() bool { return b.output() != nil })
	b.events <- leg.Event{Kind: leg.EventHold}
	time.Sleep(100 * time.Millisecond)
	if pcm := listen(a.rec, 300*time.Millisecond); len(pcm) != 0 {
		t.Fatalf("moh off: the caller got %d samples", len(pcm))
	}
	b.peerHangup(leg.Normal)
	<-done
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met within 2 s")
}
