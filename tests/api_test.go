package tests

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

var apiDialplan, _ = filepath.Abs("testdata/api.lua")

// A baresip phone (sending 1000 Hz) calls a number whose dialplan records
// it for 3 s (call:record), says "forty two" (call:say_number) and plays
// the recording back. Measured: the WAV on disk is 3 s of 1000 Hz; the
// phone heard the two spoken prompts (cross-correlation with the shipped
// say-40 and say-2) in that order, then its own tone; the CDR carries the
// variables the script set.
func TestRecordAndSay(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t, "--dialplan", apiDialplan)
	caller := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 30 * time.Second,
		codecs: "PCMU/8000/1", dial: "0801", runFor: 14 * time.Second})
	rec := filepath.Join(s.data, "recordings", "rec-1001.wav")
	waitFor(t, 25*time.Second, "CDR with the recording's variables", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), `stop="max"`)
	})
	caller.wait(t, 30*time.Second)

	p, err := sounds.LoadFile(rec)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	f := audiotest.DominantFrequency(p.PCM, p.Rate, 100, 3000, 5)
	level := audiotest.RMSdBFS(p.PCM[p.Rate/2:])
	t.Logf("recording: %v at %d Hz, dominant %.0f Hz, %.1f dBFS", p.Duration(), p.Rate, f, level)
	if p.Rate != 8000 || p.Duration() != 3*time.Second || math.Abs(f-1000) > 15 || level < -30 {
		t.Fatalf("recording is %v at %d Hz, %.0f Hz at %.1f dBFS; want 3s of the caller's 1000 Hz", p.Duration(), p.Rate, f, level)
	}

	heard := caller.heard(t)
	if heard.Rate != 8000 {
		t.Fatalf("heard audio at %d Hz, want PCMU's 8000", heard.Rate)
	}
	at40, c40 := findPrompt(t, heard.PCM, "say-40")
	at2, c2 := findPrompt(t, heard.PCM, "say-2")
	t.Logf("say-40 at %.2fs (correlation %.2f), say-2 at %.2fs (%.2f)", float64(at40)/8000, c40, float64(at2)/8000, c2)
	if c40 < 0.6 || c2 < 0.6 || at2 <= at40 {
		t.Fatalf("spoken number not heard: say-40 at %d (%.2f), say-2 at %d (%.2f)", at40, c40, at2, c2)
	}
	// After the number: the recording played back, the phone's own tone.
	tail := heard.PCM[at2:]
	if len(tail) < 2*8000 {
		t.Fatalf("only %.1f s heard after the number, want the 3 s recording", float64(len(tail))/8000)
	}
	back := tail[len(tail)/2-4000 : len(tail)/2+4000]
	if f := audiotest.DominantFrequency(back, 8000, 100, 3000, 5); math.Abs(f-1000) > 15 || audiotest.RMSdBFS(back) < -30 {
		t.Fatalf("after the number the phone heard %.0f Hz at %.1f dBFS, want its recording (1000 Hz)", f, audiotest.RMSdBFS(back))
	}
	if cdr := runCLI(t, "cdr", "list", "--data", s.data); !strings.Contains(cdr, `recorded="3.0"`) {
		t.Fatalf("CDR lacks recorded=3.0:\n%s", cdr)
	}
	// The export carries the variables too, parsed by encoding/csv and encoding/json.
	rows, js := cdrExport(t, s.data)
	if len(rows) != 1 || rows[0]["var.recorded"] != "3.0" || rows[0]["var.stop"] != "max" || rows[0]["caller"] != "1001" {
		t.Fatalf("CDR csv: %v", rows)
	}
	if vars, _ := js[0]["vars"].(map[string]any); len(js) != 1 || vars["recorded"] != "3.0" || vars["stop"] != "max" {
		t.Fatalf("CDR json: %v", js)
	}
}

// findPrompt returns where the shipped prompt name best matches pcm (8 kHz)
// and the normalised cross-correlation there (1 = identical up to gain).
func findPrompt(t *testing.T, pcm []int16, name string) (int, float64) {
	t.Helper()
	p, err := sounds.Load(name)
	if err != nil || p.Rate != 8000 {
		t.Fatalf("prompt %s: %v (rate %d)", name, err, p.Rate)
	}
	ref := p.PCM
	var refE float64
	for _, v := range ref {
		refE += float64(v) * float64(v)
	}
	best, bestAt := 0.0, -1
	var winE float64 // energy of pcm[lag : lag+len(ref)]
	for i := 0; i < len(ref) && i < len(pcm); i++ {
		winE += float64(pcm[i]) * float64(pcm[i])
	}
	for lag := 0; lag+len(ref) <= len(pcm); lag++ {
		if lag > 0 {
			out, in := float64(pcm[lag-1]), float64(pcm[lag+len(ref)-1])
			winE += in*in - out*out
		}
		if winE <= 0 || refE <= 0 {
			continue
		}
		var dot float64
		for i, r := range ref {
			dot += float64(pcm[lag+i]) * float64(r)
		}
		if c := dot / math.Sqrt(winE*refE); c > best {
			best, bestAt = c, lag
		}
	}
	return bestAt, best
}

// Voicemail for an extension that does not exist: the dialplan's fallback
// answers the phone (404 here) and the log says why.
func TestVoicemailNoSuchExtension(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t, "--dialplan", apiDialplan)
	caller := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 10 * time.Second,
		codecs: "PCMU/8000/1", dial: "0802", runFor: 5 * time.Second})
	caller.wait(t, 30*time.Second)
	waitFor(t, 10*time.Second, "the log line saying why", func() bool {
		return strings.Contains(s.logs(), `msg="voicemail: no mailbox: extension does not exist" call_id=`) &&
			strings.Contains(s.logs(), "ext=4444")
	})
	if out := caller.output(); !strings.Contains(out, "404 Not Found") {
		t.Fatalf("the caller did not get the fallback's 404:\n%s", out)
	}
}
