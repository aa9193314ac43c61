package b2bua

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// speak writes to a's output, once something listens: toneFrames frames of
// 1000 Hz, then silence, until ctx ends. Faster than real time: the
// recorder counts samples, not seconds.
func speak(ctx context.Context, a *fakeLeg, toneFrames int) {
	frame := make([]int16, 160)
	sent := 0
	for ctx.Err() == nil {
		out := a.output()
		if out == nil {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		for i := range frame {
			v := 0.0
			if sent < toneFrames {
				v = 8000 * math.Sin(2*math.Pi*1000*float64(sent*160+i)/8000)
			}
			frame[i] = int16(v)
		}
		_ = out.WriteFrame(frame)
		sent++
		time.Sleep(2 * time.Millisecond)
	}
}

// runRecord serves one call whose script records with o, and returns the
// result and error of Record and the CDRs.
func runRecord(t *testing.T, o dialplan.RecordOptions, during func(a *fakeLeg)) (dialplan.RecordResult, *cdrSink, string, error) {
	t.Helper()
	dir := t.TempDir()
	cdrs := &cdrSink{}
	var res dialplan.RecordResult
	var rerr error
	a := newFakeLeg("a")
	e := New(Config{DataDir: dir}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		s.Set("purpose", "test")
		res, rerr = s.(dialplan.Recorder).Record(ctx, "msg", o)
		return nil
	}), &fakeDialer{}, cdrs, slog.New(slog.DiscardHandler))
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go speak(ctx, a, 50)
	if during != nil {
		go during(a)
	}
	done := make(chan struct{})
	go func() {
		e.Serve(context.Background(), a, CallInfo{ID: "rec", Caller: "1001", Destination: "1002"})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("call did not end")
	}
	return res, cdrs, dir, rerr
}

// checkRecording reads the WAV at path and checks it holds about want of
// a 1000 Hz tone.
func checkRecording(t *testing.T, path string, lo, hi time.Duration) {
	t.Helper()
	p, err := sounds.LoadFile(path)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	if p.Rate != 8000 || p.Duration() < lo || p.Duration() > hi {
		t.Fatalf("recording: %d Hz, %v; want 8000 Hz, %v to %v", p.Rate, p.Duration(), lo, hi)
	}
	if f := audiotest.DominantFrequency(p.PCM[:4000], 8000, 200, 3800, 10); math.Abs(f-1000) > 20 {
		t.Errorf("recording's dominant frequency %.0f Hz, want 1000", f)
	}
}

// Silence ends a recording; the silence is trimmed, the file holds the
// tone, the variable set reaches the CDR.
func TestRecordStopsOnSilence(t *testing.T) {
	res, cdrs, dir, err := runRecord(t, dialplan.RecordOptions{Max: 30 * time.Second, Silence: 500 * time.Millisecond}, nil)
	if err != nil || res.Reason != dialplan.StopSilence {
		t.Fatalf("Record = %+v, %v; want stopped by silence", res, err)
	}
	if want := filepath.Join(dir, "recordings", "msg.wav"); res.Path != want {
		t.Errorf("path %s, want %s", res.Path, want)
	}
	// 50 frames of tone = 1 s; the trailing silence is left out.
	checkRecording(t, res.Path, 900*time.Millisecond, 1100*time.Millisecond)
	if res.Duration < 900*time.Millisecond || res.Duration > 1100*time.Millisecond {
		t.Errorf("duration %v, want about 1s", res.Duration)
	}
	final := cdrs.all()
	if len(final) != 1 || final[0].Vars["purpose"] != "test" {
		t.Fatalf("CDRs %+v: want one with vars purpose=test", final)
	}
}

func TestRecordStopsAtMax(t *testing.T) {
	res, _, _, err := runRecord(t, dialplan.RecordOptions{Max: 600 * time.Millisecond}, nil)
	if err != nil || res.Reason != dialplan.StopMax || res.Duration != 600*time.Millisecond {
		t.Fatalf("Record = %+v, %v; want 600ms stopped at max", res, err)
	}
	checkRecording(t, res.Path, 600*time.Millisecond, 600*time.Millisecond)
}

func TestRecordStopsOnTerminator(t *testing.T) {
	res, _, _, err := runRecord(t, dialplan.RecordOptions{Max: 30 * time.Second, Terminator: "#"}, func(a *fakeLeg) {
		for a.output() == nil || a.rec == nil {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		a.events <- leg.Event{Kind: leg.EventDTMF, Digit: '5'} // not a terminator: ignored
		a.events <- leg.Event{Kind: leg.EventDTMF, Digit: '#'}
	})
	if err != nil || res.Reason != dialplan.StopTerminator || res.Duration <= 0 {
		t.Fatalf("Record = %+v, %v; want stopped by #", res, err)
	}
	if _, err := os.Stat(res.Path); err != nil {
		t.Fatal(err)
	}
}

// A caller hanging up mid-recording loses nothing: the file is written,
// and Record reports the call as gone.
func TestRecordKeptOnHangup(t *testing.T) {
	res, _, _, err := runRecord(t, dialplan.RecordOptions{Max: 30 * time.Second}, func(a *fakeLeg) {
		for a.output() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(400 * time.Millisecond)
		a.peerHangup(leg.Normal)
	})
	if err == nil || !errors.Is(err, context.Canceled) || res.Reason != dialplan.StopHangup {
		t.Fatalf("Record = %+v, %v; want stopped by the hangup with the call's context error", res, err)
	}
	checkRecording(t, res.Path, 500*time.Millisecond, 30*time.Second)
}

func TestRecordWithoutDataDir(t *testing.T) {
	var rerr error
	e := New(Config{}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		_, rerr = s.(dialplan.Recorder).Record(ctx, "msg", dialplan.RecordOptions{Max: time.Second})
		return nil
	}), &fakeDialer{}, &cdrSink{}, slog.New(slog.DiscardHandler))
	e.Serve(context.Background(), newFakeLeg("a"), CallInfo{ID: "x"})
	if !errors.Is(rerr, errNoDataDir) {
		t.Fatalf("Record = %v, want %v", rerr, errNoDataDir)
	}
}
