package tests

import (
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

var (
	confJoined = regexp.MustCompile(`msg="conference: joined" call_id=\S+ room=3000 `)
	confLeft   = regexp.MustCompile(`msg="conference: left" call_id=\S+ room=3000 `)
)

// toneDB is the level (dBFS peak) of freq in the part of p between the
// fractions from and to of its length.
func toneDB(p *sounds.Prompt, from, to, freq float64) float64 {
	pcm := p.PCM[int(float64(len(p.PCM))*from):int(float64(len(p.PCM))*to)]
	return 10 * math.Log10(audiotest.Goertzel(pcm, p.Rate, freq)+1e-15)
}

// assertHearsOthers checks that who heard each of others (tones at
// -12 dBFS) clearly and not its own tone, in the middle of the call
// (after the join prompts, before the leave tones).
func assertHearsOthers(t *testing.T, who string, p *sounds.Prompt, own float64, others ...float64) {
	t.Helper()
	if len(p.PCM) < 2*p.Rate {
		t.Fatalf("%s heard only %d samples", who, len(p.PCM))
	}
	for _, f := range others {
		db := toneDB(p, 0.45, 0.8, f)
		t.Logf("%s hears %v Hz at %.1f dB", who, f, db)
		if db < -25 {
			t.Errorf("%s hears %v Hz at %.1f dB, want about -12 (or -18 with two talkers)", who, f, db)
		}
	}
	db := toneDB(p, 0.45, 0.8, own)
	t.Logf("%s hears its own %v Hz at %.1f dB", who, own, db)
	if db > -55 {
		t.Errorf("%s hears its own %v Hz at %.1f dB: an echo through the mixer", who, own, db)
	}
}

// Two baresip phones dial conference room 3000 of the shipped dialplan,
// sending 440 Hz and 1000 Hz: each hears the other and not itself; while
// they talk, `softswitch conf list` and `conf show` report the room.
func TestConferenceTwoPhones(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	a := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 440, toneFor: 9 * time.Second,
		codecs: "PCMU/8000/1", dial: "3000", runFor: 12 * time.Second})
	b := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 9 * time.Second,
		codecs: "PCMA/8000/1", dial: "3000", runFor: 12 * time.Second})
	waitFor(t, 10*time.Second, "two members in room 3000", func() bool {
		return len(confJoined.FindAllString(s.logs(), -1)) == 2
	})
	a.wait(t, 30*time.Second)
	b.wait(t, 30*time.Second)
	assertHearsOthers(t, "1001", a.heard(t), 440, 1000)
	assertHearsOthers(t, "1002", b.heard(t), 1000, 440)
	waitFor(t, 10*time.Second, "both left", func() bool {
		return len(confLeft.FindAllString(s.logs(), -1)) == 2
	})
}
