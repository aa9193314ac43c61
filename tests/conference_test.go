package tests

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua"
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

// sendDigits types digits on a baresip phone (RFC 4733), 150 ms apart.
func sendDigits(t *testing.T, b *baresip, port int, digits string) {
	t.Helper()
	for _, d := range digits {
		b.command(t, port, "sndcode", string(d))
		time.Sleep(150 * time.Millisecond)
	}
}

// waitConfOutcome waits for a CDR whose vars hold conf="want" (the outcome the
// test dialplan stores) in n CDRs.
func waitConfOutcome(t *testing.T, s *server, n int, want string) {
	t.Helper()
	waitFor(t, 30*time.Second, "CDR with conf="+want, func() bool {
		return strings.Count(runCLI(t, "cdr", "list", "--data", s.data), `conf="`+want+`"`) >= n
	})
}

// A PIN-protected room of one with real phones: three wrong PINs release
// the caller; the right PIN lets 1001 in; `softswitch conf` lists, shows,
// mutes and kicks; 1001's *6 mutes and unmutes, *5 locks (a second caller
// hears "locked") and unlocks; then the second caller finds the room full.
func TestConferencePINFullAndCLI(t *testing.T) {
	t.Parallel()
	plan := filepath.Join(t.TempDir(), "conf.lua")
	if err := os.WriteFile(plan, []byte(`function on_call(call)
  local ok, why = call:conference("small", {pin = "4711", max = 1, moderator = true})
  call:set("conf", tostring(why))
  call:hangup()
end
`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startPhoneServer(t, "--dialplan", plan)
	ctrl1, ctrl2 := freeTCPPortOn(t, testHostIP), freeTCPPortOn(t, testHostIP)
	p1 := startBaresip(t, s, baresipOpts{ext: "1001", password: testUsers["1001"], tone: 440, toneFor: 90 * time.Second,
		codecs: "PCMU/8000/1", runFor: 90 * time.Second, ctrlPort: ctrl1})
	p2 := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 90 * time.Second,
		codecs: "PCMU/8000/1", runFor: 90 * time.Second, ctrlPort: ctrl2})
	for _, ext := range []string{"1001", "1002"} {
		waitFor(t, 10*time.Second, ext+" registered", func() bool { return strings.Contains(s.registrations(ext), "via udp") })
	}
	established := func(b *baresip, n int) func() bool {
		return func() bool { return strings.Count(strings.ToLower(b.output()), "call established") >= n }
	}

	p2.command(t, ctrl2, "dial", "small")
	waitFor(t, 10*time.Second, "1002 answered", established(p2, 1))
	sendDigits(t, p2, ctrl2, "12#12#12#")
	waitConfOutcome(t, s, 1, "wrong-pin")
	if n := strings.Count(s.logs(), `msg="conference: wrong PIN"`); n != 3 {
		t.Errorf("%d wrong PINs logged, want 3", n)
	}

	p1.command(t, ctrl1, "dial", "small")
	waitFor(t, 10*time.Second, "1001 answered", established(p1, 1))
	sendDigits(t, p1, ctrl1, "4711#")
	waitFor(t, 10*time.Second, "1001 in the room", func() bool { return strings.Contains(s.logs(), `msg="conference: joined"`) })
	if out := runCLI(t, "conf", "list", "--data", s.data); !strings.Contains(out, "small") || !strings.Contains(out, "1/1") {
		t.Errorf("conf list:\n%s", out)
	}
	show := func() b2bua.ConfRoom {
		var r b2bua.ConfRoom
		if err := json.Unmarshal([]byte(runCLI(t, "conf", "show", "small", "--json", "--data", s.data)), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := show()
	if len(r.Members) != 1 || r.Members[0].Caller != "1001" || r.Members[0].Codec != "PCMU" || !r.Members[0].Moderator || r.Members[0].Muted {
		t.Errorf("conf show small: %+v", r)
	}
	waitFor(t, 10*time.Second, "1001 talking", func() bool { r := show(); return len(r.Members) == 1 && r.Members[0].Talking })
	t.Logf("conf show small:\n%s", runCLI(t, "conf", "show", "small", "--data", s.data))
	runCLI(t, "conf", "mute", "small", "1001", "--data", s.data)
	if r := show(); !r.Members[0].Muted {
		t.Errorf("after conf mute: %+v", r.Members)
	}
	waitFor(t, 5*time.Second, "muted 1001 no longer mixed", func() bool { return !show().Members[0].Talking })
	runCLI(t, "conf", "unmute", "small", "1", "--data", s.data)
	if r := show(); r.Members[0].Muted {
		t.Errorf("after conf unmute: %+v", r.Members)
	}
	if out := runCLIFail(t, "conf", "kick", "small", "9999", "--data", s.data); !strings.Contains(out, "no such member") {
		t.Errorf("kick of nobody: %s", out)
	}
	if out := runCLIUsage(t, "conf", "show", "../etc", "--data", s.data); !strings.Contains(out, "room") {
		t.Errorf("room with a path: %s", out)
	}

	// DTMF from the phone: *6 mutes and unmutes, *5 (a moderator) locks.
	sendDigits(t, p1, ctrl1, "*6")
	waitFor(t, 10*time.Second, "1001 muted by *6", func() bool { return show().Members[0].Muted })
	sendDigits(t, p1, ctrl1, "*6")
	waitFor(t, 10*time.Second, "1001 unmuted by *6", func() bool { return !show().Members[0].Muted })
	sendDigits(t, p1, ctrl1, "*5")
	waitFor(t, 10*time.Second, "room locked by *5", func() bool { return show().Locked })
	p2.command(t, ctrl2, "dial", "small")
	waitFor(t, 10*time.Second, "1002 answered again", established(p2, 2))
	sendDigits(t, p2, ctrl2, "4711#")
	waitConfOutcome(t, s, 1, "locked")
	sendDigits(t, p1, ctrl1, "*5")
	waitFor(t, 10*time.Second, "room unlocked by *5", func() bool { return !show().Locked })

	p2.command(t, ctrl2, "dial", "small")
	waitFor(t, 10*time.Second, "1002 answered a third time", established(p2, 3))
	sendDigits(t, p2, ctrl2, "4711#")
	waitConfOutcome(t, s, 1, "full")

	runCLI(t, "conf", "kick", "small", "1001", "--data", s.data)
	waitConfOutcome(t, s, 1, "kicked")
	if out := runCLI(t, "conf", "list", "--data", s.data); !strings.Contains(out, "no conferences") {
		t.Errorf("conf list after the kick:\n%s", out)
	}
}

// Two browsers and a desk phone in room conf-wide (the SIP URI form of the
// shipped dialplan): browser A sends 6 kHz, browser B 440 Hz, the phone
// silence. B hears the 6 kHz tone (Opus at 16 kHz through the 16 kHz
// mixer: wideband end to end); A hears 440 Hz; the phone (PCMU) hears
// 440 Hz and nothing of the 6 kHz tone (no alias at 8000-6000 = 2000 Hz).
func TestConferenceBrowsersWideband(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	a, b := loginPage(t, s, "1001"), loginPage(t, s, "1002")
	a.eval(`phone.setTone(6000)`, nil)
	b.eval(`phone.setTone(440)`, nil)
	a.eval(`phone.call("conf-wide")`, nil)
	a.waitTrue(`phone.inCall()`, 30*time.Second)
	b.eval(`phone.call("conf-wide")`, nil)
	b.waitTrue(`phone.inCall()`, 30*time.Second)
	runCLI(t, "user", "add", "1003", "--password", "pw-1003-secret", "--data", s.data)
	desk := startBaresip(t, s, baresipOpts{ext: "1003", password: "pw-1003-secret", tone: 0, toneFor: 14 * time.Second,
		codecs: "PCMU/8000/1", dial: "conf-wide", runFor: 14 * time.Second})
	waitFor(t, 30*time.Second, "three members", func() bool {
		return strings.Count(s.logs(), `msg="conference: joined"`) == 3
	})
	joined := grepLines(s.logs(), `msg="conference: joined"`)
	if strings.Count(joined, "Opus(decode,16k) -> mixer(room conf-wide, 16000->16000)") != 2 {
		t.Fatalf("browsers do not mix at 16 kHz:\n%s", joined)
	}
	time.Sleep(3 * time.Second) // A's "only participant" prompt, the join tones
	heardTone(t, "browser B", b.listen(3*time.Second), 6000)
	heardTone(t, "browser A", a.listen(2*time.Second), 440)
	var st callStats
	b.eval(`phone.stats()`, &st)
	if st.Codec != "audio/opus" {
		t.Errorf("browser B codec %q, want opus", st.Codec)
	}
	desk.wait(t, 30*time.Second)
	heard := desk.heard(t)
	if db := toneDB(heard, 0.3, 0.7, 440); db < -25 {
		t.Errorf("desk phone hears 440 Hz at %.1f dB, want about -12", db)
	}
	if db := toneDB(heard, 0.3, 0.7, 2000); db > -50 {
		t.Errorf("desk phone hears the 6 kHz tone folded to 2 kHz at %.1f dB", db)
	}
	a.eval(`phone.hangup()`, nil)
	b.eval(`phone.hangup()`, nil)
}

// toneAsMic makes the page's microphone a freq Hz tone (for clients
// that take the microphone themselves, as SIP.js SimpleUser does).
func toneAsMic(p *page, freq float64) {
	p.eval(fmt.Sprintf(`(async () => {
		const ctx = new AudioContext();
		await ctx.resume();
		const osc = ctx.createOscillator();
		osc.frequency.value = %v;
		const gain = ctx.createGain();
		gain.gain.value = 0.25;
		const dst = ctx.createMediaStreamDestination();
		osc.connect(gain).connect(dst);
		osc.start();
		navigator.mediaDevices.getUserMedia = async () => dst.stream;
		return true;
	})()`, freq), nil)
}

// bandLevels measures, for 1.5 s, what the page's #remote audio element
// receives at each of freqs: the highest analyser bin (dB) within 10 Hz.
func bandLevels(p *page, freqs ...float64) []float64 {
	b, _ := json.Marshal(freqs)
	var out []float64
	p.eval(fmt.Sprintf(`(async () => {
		const ctx = new AudioContext();
		await ctx.resume();
		const an = ctx.createAnalyser();
		an.fftSize = 8192;
		an.smoothingTimeConstant = 0.8;
		ctx.createMediaStreamSource(document.getElementById("remote").srcObject).connect(an);
		const f = new Float32Array(an.frequencyBinCount);
		const best = %s.map(() => -Infinity);
		for (let k = 0; k < 6; k++) {
			await new Promise((r) => setTimeout(r, 250));
			an.getFloatFrequencyData(f);
			%s.forEach((hz, j) => {
				const c = Math.round(hz * an.fftSize / ctx.sampleRate);
				for (let i = c - 2; i <= c + 2; i++) if (f[i] > best[j]) best[j] = f[i];
			});
		}
		ctx.close();
		return best.map((v) => Number.isFinite(v) ? v : -200);
	})()`, b, b), &out)
	return out
}

// Three clients in room 3001: a JsSIP browser (440 Hz), a SIP.js browser
// (700 Hz) and a baresip desk phone (1000 Hz). Each hears the other two
// and not its own frequency.
func TestConferenceThreeClients(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	bundle := bundleSIPjs(t)
	jssip := loginPage(t, s, "1001")
	jssip.eval(`phone.setTone(440)`, nil)
	sipjs := openPage(t, "https://"+s.addr("https")+"/")
	sipjs.addScript(bundle)
	toneAsMic(sipjs, 700)
	registerSIPjs(t, s, sipjs, "1002")

	jssip.eval(`phone.call("3001")`, nil)
	jssip.waitTrue(`phone.inCall()`, 30*time.Second)
	sipjs.eval(`(async () => { await window.su.call("sip:3001@" + location.hostname); return true; })()`, nil)
	runCLI(t, "user", "add", "1003", "--password", "pw-1003-secret", "--data", s.data)
	desk := startBaresip(t, s, baresipOpts{ext: "1003", password: "pw-1003-secret", tone: 1000, toneFor: 15 * time.Second,
		codecs: "PCMU/8000/1", dial: "3001", runFor: 15 * time.Second})
	waitFor(t, 30*time.Second, "three members", func() bool {
		return strings.Count(s.logs(), `msg="conference: joined"`) == 3
	})
	time.Sleep(3 * time.Second) // the first member's "only participant" prompt, the join tones
	for _, c := range []struct {
		name string
		p    *page
		own  float64
		hear []float64
	}{
		{"JsSIP", jssip, 440, []float64{700, 1000}},
		{"SIP.js", sipjs, 700, []float64{440, 1000}},
	} {
		lv := bandLevels(c.p, c.own, c.hear[0], c.hear[1])
		t.Logf("%s hears its own %v Hz at %.1f dB, %v Hz at %.1f dB, %v Hz at %.1f dB", c.name, c.own, lv[0], c.hear[0], lv[1], c.hear[1], lv[2])
		for i, f := range c.hear {
			// A member mixed into its own feed would be as loud as the
			// others; codec noise and the limiter's products put up to
			// about -57 dB in its own band (seen on a quiet machine).
			if lv[i+1] < -60 || lv[i+1] < lv[0]+20 {
				t.Errorf("%s: %v Hz at %.1f dB, own %v Hz at %.1f dB: want the others clearly, not itself", c.name, f, lv[i+1], c.own, lv[0])
			}
		}
	}
	var room b2bua.ConfRoom
	if err := json.Unmarshal([]byte(runCLI(t, "conf", "show", "3001", "--json", "--data", s.data)), &room); err != nil {
		t.Fatal(err)
	}
	codecs := map[string]int{}
	for _, m := range room.Members {
		codecs[strings.ToLower(m.Codec)+"/"+fmt.Sprint(m.Rate)]++
	}
	if len(room.Members) != 3 || codecs["opus/16000"] != 2 || codecs["pcmu/8000"] != 1 {
		t.Errorf("conf show 3001: codecs %v, want two opus/16000 and one pcmu/8000: %+v", codecs, room)
	}
	desk.wait(t, 40*time.Second)
	assertHearsOthers(t, "baresip", desk.heard(t), 1000, 440, 700)
}
