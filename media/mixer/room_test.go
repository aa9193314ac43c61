package mixer

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/audiotest"
)

// party is a member of a test room that sends a tone and records what
// it hears.
type party struct {
	m     *Member
	tone  *media.Tone
	frame []int16
	heard *audiotest.Recorder
}

func join(t testing.TB, r *Room, id string, rate int, freq float64) *party {
	t.Helper()
	rec := audiotest.NewRecorder(rate)
	m, err := r.Join(id, rate, rec)
	if err != nil {
		t.Fatal(err)
	}
	p := &party{m: m, heard: rec, frame: make([]int16, media.FrameSamples(rate))}
	if freq > 0 {
		p.tone = media.NewTone(freq, -12, rate)
	}
	return p
}

// step sends one frame from every party with a tone, then ticks.
func step(t testing.TB, r *Room, ps ...*party) {
	t.Helper()
	for _, p := range ps {
		if p.tone == nil {
			continue
		}
		p.tone.Next(p.frame)
		if err := p.m.WriteFrame(p.frame); err != nil {
			t.Fatal(err)
		}
	}
	r.tick()
}

func newTestRoom(t testing.TB, cfg Config) *Room {
	t.Helper()
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return newRoom("test", cfg, nil)
}

// dB is the level of freq in the last half of what p heard.
func (p *party) dB(freq float64) float64 {
	pcm := p.heard.PCM()
	pcm = pcm[len(pcm)/2:]
	return 10 * math.Log10(audiotest.Goertzel(pcm, p.heard.Rate(), freq)+1e-12)
}

func TestEachHearsTheOthersNotItself(t *testing.T) {
	r := newTestRoom(t, Config{})
	a := join(t, r, "a", 8000, 440)   // a phone
	b := join(t, r, "b", 16000, 700)  // a browser, wideband
	c := join(t, r, "c", 48000, 1000) // a browser at Opus's own rate
	for range 50 {
		step(t, r, a, b, c)
	}
	for _, tc := range []struct {
		p         *party
		own       float64
		others    []float64
		rateHeard int
	}{
		{a, 440, []float64{700, 1000}, 8000},
		{b, 700, []float64{440, 1000}, 16000},
		{c, 1000, []float64{440, 700}, 48000},
	} {
		if got := tc.p.heard.Rate(); got != tc.rateHeard {
			t.Errorf("%s heard at %d Hz, want %d", tc.p.m.ID(), got, tc.rateHeard)
		}
		if n := len(tc.p.heard.PCM()); n != 50*media.FrameSamples(tc.rateHeard) {
			t.Errorf("%s heard %d samples, want %d", tc.p.m.ID(), n, 50*media.FrameSamples(tc.rateHeard))
		}
		for _, f := range tc.others {
			if db := tc.p.dB(f); db < -20 {
				t.Errorf("%s hears %v Hz at %.1f dB, want about -12", tc.p.m.ID(), f, db)
			}
		}
		if db := tc.p.dB(tc.own); db > -60 {
			t.Errorf("%s hears its own %v Hz at %.1f dB, want nothing", tc.p.m.ID(), tc.own, db)
		}
	}
}

func TestWidebandSurvivesBetweenWidebandMembers(t *testing.T) {
	r := newTestRoom(t, Config{})
	a := join(t, r, "a", 16000, 6000)
	b := join(t, r, "b", 16000, 0)
	phone := join(t, r, "phone", 8000, 0)
	for range 50 {
		step(t, r, a, b, phone)
	}
	if db := b.dB(6000); db < -20 {
		t.Errorf("wideband member hears 6 kHz at %.1f dB, want about -12", db)
	}
	if db := phone.dB(2000); db > -50 { // 6 kHz folds to 2 kHz at 8 kHz
		t.Errorf("phone hears 6 kHz folded to 2 kHz at %.1f dB: the resampler should have filtered it", db)
	}
	if lvl := audiotest.RMSdBFS(phone.heard.PCM()[len(phone.heard.PCM())/2:]); lvl > -50 {
		t.Errorf("phone hears %.1f dBFS from a 6 kHz-only room, want silence", lvl)
	}
}

func TestOnlyTheLoudestTalkersAreMixed(t *testing.T) {
	r := newTestRoom(t, Config{Talkers: 2})
	loud := join(t, r, "loud", 16000, 500)
	mid := join(t, r, "mid", 16000, 900)
	quiet := join(t, r, "quiet", 16000, 1300)
	listener := join(t, r, "listener", 16000, 0)
	quiet.tone = media.NewTone(1300, -30, 16000)
	mid.tone = media.NewTone(900, -20, 16000)
	for range 30 {
		step(t, r, loud, mid, quiet, listener)
	}
	if listener.dB(500) < -20 || listener.dB(900) < -30 {
		t.Errorf("listener misses the two loudest: 500 Hz %.1f dB, 900 Hz %.1f dB", listener.dB(500), listener.dB(900))
	}
	if db := listener.dB(1300); db > -60 {
		t.Errorf("listener hears the third talker at %.1f dB, want it left out", db)
	}
	// The quiet one hears both loud talkers; the loud ones hear each other.
	if quiet.dB(500) < -20 || loud.dB(900) < -30 || mid.dB(500) < -20 {
		t.Error("talkers do not hear each other")
	}
	st := r.Members()
	if !st[0].Talking || !st[1].Talking || st[2].Talking || st[3].Talking {
		t.Errorf("talking flags %+v, want loud and mid", st)
	}
}

func TestThresholdAndMute(t *testing.T) {
	r := newTestRoom(t, Config{Threshold: 500})
	hum := join(t, r, "hum", 8000, 300) // -50 dBFS: below the threshold
	hum.tone = media.NewTone(300, -50, 8000)
	talker := join(t, r, "talker", 8000, 800)
	listener := join(t, r, "listener", 8000, 0)
	talker.m.SetMuted(true)
	for range 30 {
		step(t, r, hum, talker, listener)
	}
	if lvl := audiotest.RMSdBFS(listener.heard.PCM()); !math.IsInf(lvl, -1) {
		t.Errorf("listener hears %.1f dBFS with one member muted and one under the threshold, want digital silence", lvl)
	}
	if st := talker.m.Stats(); !st.Muted || st.Level == 0 {
		t.Errorf("muted talker stats %+v: want muted with its level still measured", st)
	}
	talker.m.SetMuted(false)
	for range 30 {
		step(t, r, hum, talker, listener)
	}
	if db := listener.dB(800); db < -20 {
		t.Errorf("unmuted talker heard at %.1f dB", db)
	}
}

func TestGainAndLimiter(t *testing.T) {
	r := newTestRoom(t, Config{})
	var ps []*party
	for i, f := range []float64{400, 600, 900} {
		p := join(t, r, string(rune('a'+i)), 16000, f)
		p.tone = media.NewTone(f, 0, 16000) // full scale each: the sum must be limited
		ps = append(ps, p)
	}
	listener := join(t, r, "listener", 16000, 0)
	ps[2].m.SetGain(0)
	for range 20 {
		step(t, r, append(ps, listener)...)
	}
	pcm := listener.heard.PCM()
	peak := 0
	for _, v := range pcm {
		peak = max(peak, int(v), -int(v))
	}
	if peak >= 32767 || peak < limitKnee {
		t.Errorf("peak %d of two full-scale tones, want limited between %d and 32767", peak, limitKnee)
	}
	if db := listener.dB(900); db > -60 {
		t.Errorf("member with gain 0 heard at %.1f dB", db)
	}
}

func TestLimiterIsMonotonicAndBounded(t *testing.T) {
	prev := limit(-1 << 20)
	for v := int32(-1<<20) + 1; v <= 1<<20; v += 7 {
		got := limit(v)
		if got < prev {
			t.Fatalf("limit(%d) = %d < limit of a smaller value %d", v, got, prev)
		}
		prev = got
	}
	for _, v := range []int32{0, 1000, -1000, limitKnee, -limitKnee} {
		if got := limit(v); int32(got) != v {
			t.Errorf("limit(%d) = %d, want unchanged below the knee", v, got)
		}
	}
	if limit(math.MaxInt32/2) == math.MaxInt16 || limit(math.MinInt32/2) == math.MinInt16 {
		t.Error("the limiter reaches full scale")
	}
}

func TestLateAndBurstyInput(t *testing.T) {
	r := newTestRoom(t, Config{})
	a := join(t, r, "a", 8000, 440)
	b := join(t, r, "b", 8000, 0)
	r.tick()       // nothing arrived yet
	for range 10 { // a burst: more than the queue holds
		a.tone.Next(a.frame)
		if err := a.m.WriteFrame(a.frame); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		r.tick()
	}
	// The queue keeps fifoFrames of the burst, the next tick cuts it to
	// keepFrames: two frames are heard, then nothing.
	st := a.m.Stats()
	if st.Ticks != 11 || st.Dropped != 10-keepFrames || st.Missed != 11-keepFrames {
		t.Errorf("stats %+v: want 11 ticks, %d dropped, %d missed", st, 10-keepFrames, 11-keepFrames)
	}
	if n := b.heard.Frames(); n != 11 {
		t.Errorf("b got %d frames, want one per tick (11)", n)
	}
}

func TestLeaveStopsOutput(t *testing.T) {
	r, err := New("x", Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := join(t, r, "a", 16000, 0)
	for r.Len() == 1 && a.heard.Frames() < 2 {
		step(t, r) // do not wait for the clock: tick by hand too
	}
	r.Leave(a.m)
	n := a.heard.Frames()
	r.tick()
	if a.heard.Frames() != n || r.Len() != 0 {
		t.Errorf("a left but got %d more frames; %d members", a.heard.Frames()-n, r.Len())
	}
	r.Close()
	r.Close()
	if _, err := r.Join("b", 8000, audiotest.NewRecorder(8000)); !errors.Is(err, ErrClosed) {
		t.Errorf("join a closed room: %v, want ErrClosed", err)
	}
}

func TestRoomSound(t *testing.T) {
	r := newTestRoom(t, Config{})
	a := join(t, r, "a", 8000, 0)
	snd := make([]int16, 3*r.n+10)
	media.NewTone(1400, -10, r.cfg.Rate).Next(snd)
	r.Play(snd)
	for range 6 {
		r.tick()
	}
	pcm := a.heard.PCM()
	if db := 10 * math.Log10(audiotest.Goertzel(pcm[:3*160], 8000, 1400)); db < -16 {
		t.Errorf("room sound heard at %.1f dB", db)
	}
	if lvl := audiotest.RMSdBFS(pcm[5*160:]); lvl > -60 {
		t.Errorf("room sound goes on after its end: %.1f dBFS", lvl)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{Rate: 11025}, {Talkers: -1}, {Talkers: 99}, {Threshold: -3}, {Threshold: 40000}} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
	if _, err := New("x", Config{Rate: 1}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("New with a bad rate: %v", err)
	}
	c, err := Config{}.withDefaults()
	if err != nil || c.Rate != DefaultRate || c.Talkers != DefaultTalkers || c.Threshold != DefaultThreshold {
		t.Errorf("defaults %+v, %v", c, err)
	}
}

func TestMemberString(t *testing.T) {
	r := newTestRoom(t, Config{})
	p := join(t, r, "a", 8000, 0)
	if got, want := p.m.String(), "mixer(room test, 8000->16000)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// A late clock runs the ticks it missed, up to maxCatchUp, and skips
// the rest; it never runs a tick before its time.
func TestClockCatchesUp(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	for _, tc := range []struct {
		now           int // ms after t0, the tick due at t0
		ticks, skip   int
		nextAfterTick int // ms after t0
	}{
		{-1, 0, 0, 0},
		{0, 1, 0, 20},
		{19, 1, 0, 20},
		{20, 2, 0, 40},
		{85, 5, 0, 100},
		{99, 5, 0, 100},
		{100, 5, 1, 120},
		{1000, 5, 46, 1020},
	} {
		ticks, skip, next := due(ms(tc.now), t0)
		if ticks != tc.ticks || skip != tc.skip || !next.Equal(ms(tc.nextAfterTick)) {
			t.Errorf("due at +%d ms: %d ticks, %d skipped, next +%v; want %d, %d, +%d ms",
				tc.now, ticks, skip, next.Sub(t0), tc.ticks, tc.skip, tc.nextAfterTick)
		}
	}
}

// A tap hears everyone (the whole mix at the room's rate) until removed.
func TestTapHearsTheWholeMix(t *testing.T) {
	r := newTestRoom(t, Config{})
	a := join(t, r, "a", 8000, 440)
	b := join(t, r, "b", 16000, 1000)
	tap := audiotest.NewRecorder(16000)
	r.SetTap(tap)
	for range 30 {
		step(t, r, a, b)
	}
	pcm := tap.PCM()
	if len(pcm) != 30*320 {
		t.Fatalf("tap got %d samples, want %d", len(pcm), 30*320)
	}
	for _, f := range []float64{440, 1000} {
		if db := 10 * math.Log10(audiotest.Goertzel(pcm[len(pcm)/2:], 16000, f)); db < -20 {
			t.Errorf("tap hears %v Hz at %.1f dB", f, db)
		}
	}
	r.SetTap(nil)
	step(t, r, a, b)
	if tap.Frames() != 30 {
		t.Errorf("tap got frames after its removal")
	}
}
