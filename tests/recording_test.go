package tests

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
	"github.com/softswitch/softswitch/sounds"
)

// recordingPlan bridges every call to the dialled extension with
// {record = true}: the file gets the server's default name.
const recordingPlan = `function on_call(call)
  local ok, why = call:bridge({"user/" .. call.destination}, {record = true, timeout = 20})
  if not ok then call:hangup(why) end
end
`

// startRecordingServer runs a phone server with recordingPlan, writing
// call recordings in format ("": the default, wav).
func startRecordingServer(t *testing.T, format string) *server {
	t.Helper()
	return startRecordingServerWith(t, format, recordingPlan)
}

// startRecordingServerWith runs a phone server with the dialplan script,
// writing recordings in format.
func startRecordingServerWith(t *testing.T, format, script string) *server {
	t.Helper()
	dir := t.TempDir()
	plan, conf := filepath.Join(dir, "record.lua"), filepath.Join(dir, "softswitch.yaml")
	if err := os.WriteFile(plan, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("recordings:\n  format: \""+format+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return startPhoneServer(t, "--dialplan", plan, "--config", conf)
}

// recordedChannels reads a stereo call recording: caller, callee.
func recordedChannels(t *testing.T, path string) (caller, callee *sounds.Prompt) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".opus") {
		ch, err := audiotest.DecodeOggOpus(b, 2)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return &sounds.Prompt{Rate: audiotest.OggRate, PCM: ch[0]}, &sounds.Prompt{Rate: audiotest.OggRate, PCM: ch[1]}
	}
	if caller, err = sounds.DecodeWAVChannel(b, 0); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if callee, err = sounds.DecodeWAVChannel(b, 1); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return caller, callee
}

// assertChannelTone checks the dominant frequency of a channel's middle
// (the ends may hold the call's setup and teardown) and that the other
// party's tone is at least 20 dB below it.
func assertChannelTone(t *testing.T, which string, p *sounds.Prompt, want, other float64) {
	t.Helper()
	n := len(p.PCM)
	mid := p.PCM[n/5 : n-n/5]
	f := audiotest.DominantFrequency(mid, p.Rate, 200, 3000, 10)
	own, leak := audiotest.Goertzel(mid, p.Rate, want), audiotest.Goertzel(mid, p.Rate, other)
	t.Logf("%s channel: dominant %.0f Hz, %.1f dBFS, %.0f Hz at %.1f dB below", which, f, audiotest.RMSdBFS(mid), other, 10*math.Log10(own/(leak+1e-15)))
	if math.Abs(f-want) > 15 {
		t.Errorf("%s channel at %.0f Hz, want %.0f", which, f, want)
	}
	if own < 100*leak {
		t.Errorf("%s channel: %.0f Hz only %.1f dB above %.0f Hz", which, want, 10*math.Log10(own/(leak+1e-15)), other)
	}
}

// A recorded bridged call between two desk phones (baresip, PCMU; the
// caller sends 1000 Hz, the callee 440 Hz): the stereo file the CDR
// names (WAV, or Opus in Ogg with recordings.format: ogg) holds the
// caller's tone on the left channel and the callee's on the right, and
// lasts as long as the call (±0.5 s).
func TestRecordedCall(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"wav", "ogg"} {
		t.Run(format, func(t *testing.T) { recordedCall(t, format) })
	}
}

func recordedCall(t *testing.T, format string) {
	s := startRecordingServer(t, format)
	callee := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: 30 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 15 * time.Second})
	waitFor(t, 10*time.Second, "1002 registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	caller := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 5 * time.Second,
		codecs: "PCMU/8000/1", dial: "1002", runFor: 12 * time.Second})
	caller.wait(t, 30*time.Second)
	var rec map[string]any
	waitFor(t, 10*time.Second, "the CDR", func() bool {
		_, js := cdrExport(t, s.data)
		if len(js) == 1 {
			rec = js[0]
		}
		return rec != nil
	})
	path, _ := rec["recording"].(string)
	ext := map[string]string{"wav": ".wav", "ogg": ".opus"}[format]
	if dir := filepath.Join(s.data, "recordings"); filepath.Dir(path) != dir || !strings.HasSuffix(path, ext) {
		t.Fatalf("CDR recording %q, want a %s file in %s; CDR %v", path, ext, dir, rec)
	}
	table := runCLI(t, "cdr", "list", "--data", s.data)
	if !strings.Contains(table, "recording="+path) {
		t.Errorf("cdr list does not show the recording:\n%s", table)
	}
	left, right := recordedChannels(t, path)
	callSecs, _ := rec["duration_s"].(float64)
	recSecs := float64(len(left.PCM)) / float64(left.Rate)
	t.Logf("call %.2f s, recording %.2f s (%s)", callSecs, recSecs, path)
	if callSecs < 3 || math.Abs(recSecs-callSecs) > 0.5 {
		t.Errorf("recording lasts %.2f s, the call %.2f s", recSecs, callSecs)
	}
	assertChannelTone(t, "left (caller)", left, 1000, 440)
	assertChannelTone(t, "right (callee)", right, 440, 1000)
	callee.wait(t, 30*time.Second)
}

// kill -9 during a recorded call: the partial file (WAV or Ogg Opus) is
// valid and holds the call up to about a second before the kill, both
// channels in it, and the call's open record names it.
func TestRecordingSurvivesKill(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"wav", "ogg"} {
		t.Run(format, func(t *testing.T) { recordingSurvivesKill(t, format) })
	}
}

func recordingSurvivesKill(t *testing.T, format string) {
	s := startRecordingServer(t, format)
	startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 440, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 30 * time.Second})
	waitFor(t, 10*time.Second, "1002 registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", dial: "1002", runFor: 30 * time.Second})
	dir := filepath.Join(s.data, "recordings")
	var path string
	var started time.Time
	for deadline := time.Now().Add(15 * time.Second); path == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no recording appeared in %s", dir)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "*.*")); len(m) == 1 {
			path, started = m[0], time.Now()
		}
	}
	time.Sleep(4 * time.Second)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Since(started)
	_ = s.stop(syscall.SIGKILL) // waits for the exit
	left, right := recordedChannels(t, path)
	kept := time.Duration(len(left.PCM)) * time.Second / time.Duration(left.Rate)
	t.Logf("killed %v into the recording; the file holds %v", killed.Round(time.Millisecond), kept.Round(time.Millisecond))
	if kept < killed-time.Second || kept > killed+100*time.Millisecond {
		t.Fatalf("the file holds %v of the %v recorded before the kill", kept, killed)
	}
	assertChannelTone(t, "left (caller)", left, 1000, 440)
	assertChannelTone(t, "right (callee)", right, 440, 1000)
	// Up to its end: the last half second holds both parties.
	tail := len(left.PCM) - left.Rate/2
	for _, ch := range []struct {
		name string
		p    *sounds.Prompt
		freq float64
	}{{"left", left, 1000}, {"right", right, 440}} {
		if f := audiotest.DominantFrequency(ch.p.PCM[tail:], ch.p.Rate, 200, 3000, 10); math.Abs(f-ch.freq) > 15 {
			t.Errorf("the %s channel's last half second is at %.0f Hz, want %.0f", ch.name, f, ch.freq)
		}
	}
	open := runCLI(t, "cdr", "list", "--open", "--data", s.data)
	if !strings.Contains(open, "recording="+path) {
		t.Errorf("the cut call's record does not name the recording:\n%s", open)
	}
}

// Two browsers (Opus on both legs) in a recorded call: payloads still
// pass through undecoded to the other browser, the recording taps decode
// them for the file, and each channel holds its party's tone.
func TestRecordedBrowserCall(t *testing.T) {
	t.Parallel()
	s := startRecordingServer(t, "")
	a, b := browserCall(t, s)
	time.Sleep(time.Second)
	heardTone(t, "callee", b.listen(3*time.Second), 440)
	b.eval(`phone.hangup()`, nil)
	a.waitTrue(`!phone.inCall()`, 10*time.Second)
	waitFor(t, 5*time.Second, "media path logged", func() bool { return strings.Contains(s.logs(), `msg="bridge ended"`) })
	if path := grepLines(s.logs(), "bridge ended"); strings.Count(path, "passthrough") < 2 || strings.Count(path, "record(") < 2 {
		t.Fatalf("the recorded browser call was not relayed undecoded through both taps:\n%s", path)
	}
	var path string
	waitFor(t, 10*time.Second, "the CDR", func() bool {
		_, js := cdrExport(t, s.data)
		if len(js) == 1 {
			path, _ = js[0]["recording"].(string)
		}
		return path != ""
	})
	left, right := recordedChannels(t, path)
	assertChannelTone(t, "left (caller)", left, 440, 1000)
	assertChannelTone(t, "right (callee)", right, 1000, 440)
}
