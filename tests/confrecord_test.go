package tests

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two baresip phones (440 and 1000 Hz) in a room the dialplan records
// ({record = true}): the file in the recordings directory, named after
// the room (WAV, or Opus in Ogg), holds both tones on both channels, lasts as long as the room
// was open, and both CDRs name it (`softswitch cdr list` shows it; `conf
// show` names it while the room is open).
func TestConferenceRecorded(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"wav", "ogg"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			conferenceRecorded(t, format)
		})
	}
}

func conferenceRecorded(t *testing.T, format string) {
	s := startRecordingServerWith(t, format, `function on_call(call)
  call:conference("recroom", {record = true})
end
`)
	a := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 440, toneFor: 8 * time.Second,
		codecs: "PCMU/8000/1", dial: "recroom", runFor: 11 * time.Second})
	b := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 8 * time.Second,
		codecs: "PCMA/8000/1", dial: "recroom", runFor: 11 * time.Second})
	waitFor(t, 10*time.Second, "the recording started", func() bool {
		return strings.Contains(s.logs(), `msg="conference recording started"`)
	})
	if show := runCLI(t, "conf", "show", "recroom", "--data", s.data); !strings.Contains(show, "recording to "+filepath.Join(s.data, "recordings", "recroom-")) {
		t.Errorf("conf show does not name the recording:\n%s", show)
	}
	a.wait(t, 30*time.Second)
	b.wait(t, 30*time.Second)
	var recs []map[string]any
	waitFor(t, 10*time.Second, "two CDRs", func() bool {
		_, recs = cdrExport(t, s.data)
		return len(recs) == 2
	})
	path, _ := recs[0]["recording"].(string)
	ext := map[string]string{"wav": ".wav", "ogg": ".opus"}[format]
	if filepath.Dir(path) != filepath.Join(s.data, "recordings") || !strings.HasPrefix(filepath.Base(path), "recroom-") ||
		!strings.HasSuffix(path, ext) {
		t.Fatalf("CDR recording %q, want recroom-DATE-TIME%s in the recordings directory; CDRs %v", path, ext, recs)
	}
	var firstAnswer, lastEnd time.Time
	var longest float64
	for _, r := range recs {
		if r["recording"] != path {
			t.Errorf("CDR %v does not name %s", r, path)
		}
		ans, err1 := time.Parse(time.RFC3339Nano, r["answer"].(string))
		end, err2 := time.Parse(time.RFC3339Nano, r["end"].(string))
		if err1 != nil || err2 != nil {
			t.Fatalf("CDR times: %v %v", err1, err2)
		}
		if firstAnswer.IsZero() || ans.Before(firstAnswer) {
			firstAnswer = ans
		}
		if end.After(lastEnd) {
			lastEnd = end
		}
		longest = max(longest, r["duration_s"].(float64))
	}
	table := runCLI(t, "cdr", "list", "--data", s.data)
	if strings.Count(table, "recording="+path) != 2 {
		t.Errorf("cdr list does not show the recording twice:\n%s", table)
	}
	waitFor(t, 10*time.Second, "the recording closed", func() bool {
		return strings.Contains(s.logs(), `msg="conference recording ended"`)
	})
	left, right := recordedChannels(t, path)
	recSecs := float64(len(left.PCM)) / float64(left.Rate)
	span := lastEnd.Sub(firstAnswer).Seconds()
	t.Logf("recording %.2f s; longest member %.2f s, first answer to last end %.2f s", recSecs, longest, span)
	if longest < 5 || recSecs < longest-0.5 || recSecs > span+0.5 {
		t.Errorf("recording lasts %.2f s; members were in the room %.2f s, the room open about %.2f s", recSecs, longest, span)
	}
	for _, ch := range []struct {
		name string
		pcm  []int16
	}{{"left", left.PCM}, {"right", right.PCM}} {
		p := *left
		p.PCM = ch.pcm
		other := toneDB(&p, 0.3, 0.7, 700)
		for _, f := range []float64{440, 1000} {
			db := toneDB(&p, 0.3, 0.7, f)
			t.Logf("%s channel: %v Hz at %.1f dB (700 Hz at %.1f dB)", ch.name, f, db, other)
			if db < -30 || db < other+20 || math.IsNaN(db) {
				t.Errorf("%s channel: %v Hz at %.1f dB, 700 Hz at %.1f dB: want the tone clearly in the mix", ch.name, f, db, other)
			}
		}
	}
}
