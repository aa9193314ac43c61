package b2bua

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/media/recording"
	"github.com/softswitch/softswitch/sounds"
)

// A room recorded by {record = true}: b joins without it (nothing is
// recorded yet), a joins with it and opens the file; both talk (440 and
// 1000 Hz) and the file, both channels alike, holds both tones from a's
// join until the room closes. Only a's CDR names the file.
func TestConferenceRecordsTheMix(t *testing.T) {
	data := t.TempDir()
	cdrs := &cdrSink{}
	e := New(Config{DataDir: data}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		_, _, err := s.(dialplan.Conferencer).Conference(ctx, "rec-room", dialplan.ConferenceOptions{Record: s.Caller() == "1001"})
		return err
	}), &fakeDialer{}, cdrs, slog.New(slog.DiscardHandler))
	a, b := newFakeLeg("a"), newFakeLeg("b")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { e.Serve(context.Background(), b, CallInfo{ID: "b", Caller: "1002"}) })
	waitMembers(t, e, "rec-room", 1)
	wg.Go(func() { sendTone(b, 1000, stop) })
	time.Sleep(500 * time.Millisecond)
	if got := recordings(t, data); len(got) != 0 {
		t.Fatalf("recording before anyone asked: %v", got)
	}
	if r, _ := e.Conference("rec-room"); r.Recording != "" {
		t.Errorf("conf show names a recording before anyone asked: %q", r.Recording)
	}
	start := time.Now()
	wg.Go(func() { e.Serve(context.Background(), a, CallInfo{ID: "a", Caller: "1001"}) })
	waitMembers(t, e, "rec-room", 2)
	wg.Go(func() { sendTone(a, 440, stop) })
	time.Sleep(2500 * time.Millisecond)
	if r, _ := e.Conference("rec-room"); r.Recording == "" || r.Recording != recordings(t, data)[0] {
		t.Errorf("conf show names %q, the recordings are %v", r.Recording, recordings(t, data))
	}
	a.peerHangup(leg.Normal) // the room goes on: the file too
	waitMembers(t, e, "rec-room", 1)
	time.Sleep(time.Second)
	close(stop)
	b.peerHangup(leg.Normal)
	wg.Wait()
	open := time.Since(start)

	files := recordings(t, data)
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "rec-room-") || !strings.HasSuffix(files[0], ".wav") {
		t.Fatalf("recordings %v, want one rec-room-DATE-TIME.wav", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	left, err := sounds.DecodeWAVChannel(raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	right, err := sounds.DecodeWAVChannel(raw, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Both channels hold the mix. Each channel is placed by the wall clock
	// on its own, so the two can sit a sample or two apart (the clock
	// ticked between the two writes of a frame), and a tick the loaded
	// machine ran late can land a frame apart: compare at the best of small
	// shifts, and let a few frames differ.
	frame := recording.Rate / 50
	differ, frames := channelsDiffer(left.PCM, right.PCM, frame, 8)
	if frames == 0 || differ > frames/10 {
		t.Errorf("the channels differ in %d of %d frames: both should hold the mix", differ, frames)
	}
	got := time.Duration(len(left.PCM)) * time.Second / recording.Rate
	if got > open+250*time.Millisecond || got < open-500*time.Millisecond {
		t.Errorf("recording lasts %v, the room was open %v after a joined", got, open)
	}
	kinds := windowKinds(left.PCM, 440, 1000)
	t.Logf("windows %s", strings.Join(kinds, " "))
	// Both tones at once (a's first 2.5 s): each stands out in the mix.
	both := 0
	for off := 0; off+recording.Rate/5 <= len(left.PCM); off += recording.Rate / 5 {
		w := left.PCM[off : off+recording.Rate/5]
		p440, p1000 := audiotest.Goertzel(w, recording.Rate, 440), audiotest.Goertzel(w, recording.Rate, 1000)
		other := audiotest.Goertzel(w, recording.Rate, 700)
		if p440 > 100*other && p1000 > 100*other && p440 > p1000/10 && p1000 > p440/10 {
			both++
		}
	}
	if both < 8 { // 1.6 s of the 2.5 s both talked
		t.Errorf("both tones in only %d windows of 200 ms", both)
	}
	// After a left, only b's 1000 Hz.
	tail := left.PCM[len(left.PCM)-recording.Rate/2:]
	if f := audiotest.DominantFrequency(tail, recording.Rate, 200, 3000, 10); f < 990 || f > 1010 {
		t.Errorf("after a left the mix holds %v Hz, want 1000", f)
	}
	if audiotest.Goertzel(tail, recording.Rate, 440) > audiotest.Goertzel(tail, recording.Rate, 1000)/1000 {
		t.Error("a's 440 Hz still in the mix after a left")
	}
	for _, r := range cdrs.all() {
		want := ""
		if r.Caller == "1001" {
			want = files[0]
		}
		if r.Recording != want {
			t.Errorf("CDR of %s names %q, want %q", r.Caller, r.Recording, want)
		}
	}
	if n := len(cdrs.all()); n != 2 {
		t.Errorf("%d CDRs", n)
	}
}

// recordings lists the files in DATA/recordings.
func recordings(t *testing.T, data string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(data, "recordings", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A member who is not a moderator and types *5 hears that only the
// moderator can lock the room (the prompt's very samples reach the
// phone), and the room stays unlocked.
func TestConferenceStarFiveNotModerator(t *testing.T) {
	e, _ := confEngine(t, "nomod", dialplan.ConferenceOptions{})
	want, err := e.prompts.Prompt("conf-not-moderator", 8000)
	if err != nil {
		t.Fatal(err)
	}
	alone, err := e.prompts.Prompt("conf-alone", 8000)
	if err != nil {
		t.Fatal(err)
	}
	m := newFakeLeg("m")
	var wg sync.WaitGroup
	wg.Go(func() { e.Serve(context.Background(), m, CallInfo{ID: "m", Caller: "1001"}) })
	waitMembers(t, e, "nomod", 1)
	// "you are the only participant" first: *5 waits for it.
	for _, d := range "*5" {
		m.events <- leg.Event{Kind: leg.EventDTMF, Digit: d}
	}
	probe := firstSound(want.PCM, 800)
	waitUntilFor(t, time.Duration(len(alone.PCM)+len(want.PCM))*time.Second/8000+5*time.Second, "the not-moderator prompt heard",
		func() bool { return containsRun(m.rec.PCM(), probe) })
	if r, err := e.Conference("nomod"); err != nil || r.Locked {
		t.Errorf("a non-moderator's *5 changed the room: %+v, %v", r, err)
	}
	if !containsRun(m.rec.PCM(), firstSound(alone.PCM, 800)) {
		t.Error("the member never heard conf-alone: the probe does not find prompts")
	}
	m.peerHangup(leg.Normal)
	wg.Wait()
}

// firstSound is the n samples of pcm from its first non-silent one.
func firstSound(pcm []int16, n int) []int16 {
	for i, v := range pcm {
		if v > 64 || v < -64 {
			return pcm[i:min(i+n, len(pcm))]
		}
	}
	return nil
}

// containsRun reports whether run occurs, sample for sample, in pcm.
func containsRun(pcm, run []int16) bool {
	if len(run) == 0 {
		return false
	}
	for i := 0; i+len(run) <= len(pcm); i++ {
		if pcm[i] == run[0] && slices.Equal(pcm[i:i+len(run)], run) {
			return true
		}
	}
	return false
}

// A room that reopens within the second finds ROOM-DATE-TIME taken: its
// recording goes to ROOM-DATE-TIME-2 and the older file is left alone.
func TestConferenceRecordingNameTaken(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "recordings")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	taken := map[string]bool{}
	for s := range 3 { // the join may fall in one of the next seconds
		p := filepath.Join(dir, "again-"+now.Add(time.Duration(s)*time.Second).Format("20060102-150405")+".wav")
		if err := os.WriteFile(p, []byte("older"), 0o600); err != nil {
			t.Fatal(err)
		}
		taken[p] = true
	}
	cdrs := &cdrSink{}
	e := New(Config{DataDir: data}, scriptFunc(func(ctx context.Context, s dialplan.Session) error {
		_, _, err := s.(dialplan.Conferencer).Conference(ctx, "again", dialplan.ConferenceOptions{Record: true})
		return err
	}), &fakeDialer{}, cdrs, slog.New(slog.DiscardHandler))
	m := newFakeLeg("m")
	var wg sync.WaitGroup
	wg.Go(func() { e.Serve(context.Background(), m, CallInfo{ID: "m", Caller: "1001"}) })
	waitMembers(t, e, "again", 1)
	m.peerHangup(leg.Normal)
	wg.Wait()
	recs := cdrs.all()
	if len(recs) != 1 || taken[recs[0].Recording] || !strings.HasSuffix(recs[0].Recording, "-2.wav") {
		t.Fatalf("CDRs %+v: want a new again-DATE-TIME-2.wav", recs)
	}
	raw, err := os.ReadFile(recs[0].Recording)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sounds.DecodeWAVChannel(raw, 0); err != nil {
		t.Errorf("the recording: %v", err)
	}
	for p := range taken {
		if b, err := os.ReadFile(p); err != nil || string(b) != "older" {
			t.Errorf("%s changed: %q, %v", p, b, err)
		}
	}
}

// channelsDiffer counts the frames of size frame that differ between a and
// b, at the shift of b against a (within ±maxShift samples) where fewest
// differ, and how many frames were compared.
func channelsDiffer(a, b []int16, frame, maxShift int) (differ, frames int) {
	best := -1
	for shift := -maxShift; shift <= maxShift; shift++ {
		d, n := 0, 0
		for off := maxShift; off+frame+maxShift <= min(len(a), len(b)); off += frame {
			n++
			if !slices.Equal(a[off:off+frame], b[off+shift:off+shift+frame]) {
				d++
			}
		}
		if best < 0 || d < best {
			best, frames = d, n
		}
	}
	return best, frames
}
