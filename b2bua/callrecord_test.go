package b2bua

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/recording"
	"github.com/softswitch/softswitch/sounds"
)

// talker sends a tone into a leg's output every 20 ms while its leg is
// set; the test switches legs and tones as the call goes on.
type talker struct {
	leg  atomic.Pointer[fakeLeg]
	freq atomic.Int64
	stop chan struct{}
	done sync.WaitGroup
}

func startTalker(freq float64, l *fakeLeg) *talker {
	t := &talker{stop: make(chan struct{})}
	t.set(freq, l)
	t.done.Add(1)
	go func() {
		defer t.done.Done()
		tick := time.NewTicker(media.FrameDuration)
		defer tick.Stop()
		frame := make([]int16, 160)
		var tone *media.Tone
		var toneFreq int64
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
			}
			l, f := t.leg.Load(), t.freq.Load()
			if l == nil || l.output() == nil {
				continue
			}
			if f != toneFreq {
				tone, toneFreq = media.NewTone(float64(f), -12, 8000), f
			}
			tone.Next(frame)
			_ = l.output().WriteFrame(frame)
		}
	}()
	return t
}

func (t *talker) set(freq float64, l *fakeLeg) { t.freq.Store(int64(freq)); t.leg.Store(l) }
func (t *talker) quit()                        { close(t.stop); t.done.Wait() }

// windowKinds names what each 200 ms window of pcm holds: the frequency
// of freqs carrying most of it, or "-" when it is quiet.
func windowKinds(pcm []int16, freqs ...float64) []string {
	win := recording.Rate / 5
	var kinds []string
	for off := 0; off+win <= len(pcm); off += win {
		w := pcm[off : off+win]
		kind := "-"
		if audiotest.RMSdBFS(w) > -30 {
			best := 0.0
			for _, f := range freqs {
				if g := audiotest.Goertzel(w, recording.Rate, f); g > best {
					best, kind = g, strconv.Itoa(int(f))
				}
			}
		}
		kinds = append(kinds, kind)
	}
	return kinds
}

// phases collapses runs of the same kind: "440,-,440,700".
func phases(kinds []string) string {
	var out []string
	for _, k := range kinds {
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	return strings.Join(out, ",")
}

// A recorded call goes on in one file through the callee's hold (the
// callee's side silent meanwhile) and a blind transfer to another party:
// the caller's 1000 Hz stays on the left channel throughout; the right
// channel holds the first callee's 440 Hz, silence on hold, 440 Hz again,
// then the new party's 700 Hz. Both CDRs of the transfer name the file.
func TestCallRecordingSurvivesHoldAndTransfer(t *testing.T) {
	a, b1, b2 := newFakeLeg("a"), newFakeLeg("b1"), newFakeLeg("b2")
	data := t.TempDir()
	paths := make(chan string, 1)
	script := scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		if s.(dialplan.Transferer).ReferredBy() != "" {
			_, _, err := s.Bridge(ctx, []string{"user/" + s.Destination()}, dialplan.BridgeOptions{Timeout: time.Second})
			return err
		}
		p, err := s.(dialplan.CallRecorder).RecordCall(ctx, "rec-1")
		if err != nil {
			return err
		}
		paths <- p
		_, _, err = s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{})
		return err
	})
	cdrs := &cdrSink{}
	e := New(Config{DataDir: data}, script, &fakeDialer{targets: map[string]dialOutcome{
		"user/1002": {leg: b1}, "user/1003": {leg: b2, after: 100 * time.Millisecond}}}, cdrs, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		e.Serve(context.Background(), a, CallInfo{ID: "rec", Caller: "1001", Destination: "1002", Authenticated: true})
	}()
	caller, callee := startTalker(1000, a), startTalker(440, b1)
	defer caller.quit()
	defer callee.quit()
	waitUntil(t, "bridged", func() bool { return b1.output() != nil })
	time.Sleep(600 * time.Millisecond)
	b1.events <- leg.Event{Kind: leg.EventHold}
	callee.set(440, nil) // a holding phone sends nothing
	time.Sleep(800 * time.Millisecond)
	b1.events <- leg.Event{Kind: leg.EventResume}
	callee.set(440, b1)
	time.Sleep(600 * time.Millisecond)
	n := newFakeNotifier()
	b1.events <- leg.Event{Kind: leg.EventRefer, Refer: &leg.Refer{Target: "1003", Notifier: n}}
	callee.set(700, b2)
	<-n.final
	waitUntil(t, "joined to b2", func() bool { return b2.output() != nil })
	time.Sleep(800 * time.Millisecond)
	b2.peerHangup(leg.Normal)
	<-done
	elapsed := time.Since(start)

	path := <-paths
	if want := filepath.Join(data, "recordings", "rec-1.wav"); path != want {
		t.Fatalf("path %q, want %q", path, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	left, err := sounds.DecodeWAVChannel(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	right, _ := sounds.DecodeWAVChannel(b, 1)
	if got := time.Duration(len(left.PCM)) * time.Second / recording.Rate; got > elapsed || got < elapsed-500*time.Millisecond {
		t.Errorf("recording lasts %v, the call %v", got, elapsed)
	}
	lk, rk := windowKinds(left.PCM, 1000, 440, 700), windowKinds(right.PCM, 1000, 440, 700)
	t.Logf("left %s\nright %s", strings.Join(lk, " "), strings.Join(rk, " "))
	// The caller's side: 1000 Hz except around the transfer's ringing.
	if n := strings.Count(strings.Join(lk, ","), "1000"); n < len(lk)-5 {
		t.Errorf("the caller's 1000 Hz fills %d of %d windows on the left", n, len(lk))
	}
	for _, k := range append(lk, rk...) {
		if k != "-" && k != "1000" && k != "440" && k != "700" {
			t.Fatalf("window %q", k)
		}
	}
	if got := phases(rk); got != "440,-,440,-,700" && got != "440,-,440,700" {
		t.Errorf("right channel phases %q, want 440, silence on hold, 440, (ringing,) 700", got)
	}
	if strings.Contains(strings.Join(rk, ","), "1000") {
		t.Error("the caller leaks into the right channel")
	}
	recs := cdrs.all()
	if len(recs) != 2 || recs[0].Recording != path || recs[1].Recording != path {
		t.Fatalf("CDRs do not both name the recording: %+v", recs)
	}
}

// A recording name that could leave the recordings directory is refused
// at once, and an existing file is never overwritten.
func TestRecordCallRefusesBadNames(t *testing.T) {
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "recordings"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "recordings", "taken.wav"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	script := scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		for _, name := range []string{"../escape", "a/b", "/etc/x", ".hidden", "taken"} {
			_, err := s.(dialplan.CallRecorder).RecordCall(ctx, name)
			errs <- err
		}
		return nil
	})
	e := New(Config{DataDir: data}, script, &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	e.Serve(context.Background(), newFakeLeg("a"), CallInfo{ID: "bad"})
	close(errs)
	n := 0
	for err := range errs {
		n++
		if err == nil {
			t.Errorf("name %d accepted", n)
		}
	}
	if n != 5 {
		t.Fatalf("%d results", n)
	}
	entries, _ := os.ReadDir(data)
	for _, en := range entries {
		if en.Name() != "recordings" {
			t.Errorf("unexpected %s in the data directory", en.Name())
		}
	}
}
