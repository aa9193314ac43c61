package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/media/audiotest"
)

// mohNotes are the notes of the bundled music on hold (sounds/README.md).
var mohNotes = []float64{523.25, 659.25, 783.99}

// mohWindow tells what a 250 ms window of received audio holds: "moh"
// when the music's notes carry most of its energy, "tone" when freq does,
// "" otherwise (silence, a switch mid-window).
func mohWindow(pcm []int16, rate int, freq float64) string {
	if audiotest.RMSdBFS(pcm) < -40 {
		return ""
	}
	var music float64
	for _, f := range mohNotes {
		music += audiotest.Goertzel(pcm, rate, f)
	}
	tone := audiotest.Goertzel(pcm, rate, freq)
	switch {
	case music > 10*tone:
		return "moh"
	case tone > 10*music:
		return "tone"
	}
	return ""
}

// assertHoldSequence checks that a recording heard the other side's tone,
// then music on hold for at least minMusic, then the tone again.
func assertHoldSequence(t *testing.T, who string, pcm []int16, rate int, freq float64, minMusic time.Duration) {
	t.Helper()
	win := rate / 4
	var kinds []string
	for off := 0; off+win <= len(pcm); off += win {
		kinds = append(kinds, mohWindow(pcm[off:off+win], rate, freq))
	}
	first, last := -1, -1
	for i, k := range kinds {
		if k == "moh" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	count := func(from, to int, kind string) (n int) {
		for _, k := range kinds[max(from, 0):max(to, 0)] {
			if k == kind {
				n++
			}
		}
		return n
	}
	t.Logf("%s heard, per 250 ms: %s", who, strings.Join(kinds, ","))
	switch {
	case first < 0:
		t.Fatalf("%s never heard music on hold", who)
	case time.Duration(count(first, last+1, "moh"))*250*time.Millisecond < minMusic:
		t.Fatalf("%s heard music for %d windows only", who, count(first, last+1, "moh"))
	case count(first, last+1, "tone") > 0:
		t.Fatalf("%s heard the holder's %.0f Hz during the hold", who, freq)
	case count(0, first, "tone") < 4:
		t.Fatalf("%s did not hear %.0f Hz before the hold", who, freq)
	case count(last+1, len(kinds), "tone") < 4:
		t.Fatalf("%s did not hear %.0f Hz again after the resume", who, freq)
	}
}

// A browser (Opus) calls a desk phone (baresip, PCMU), puts it on hold
// (JsSIP hold: re-INVITE with a=sendonly) and resumes: the phone hears
// the browser's 440 Hz, then the music on hold (transcoded to PCMU), then
// 440 Hz again.
func TestMusicOnHoldBrowserHolds(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(fmt.Sprintf(`phone.setTone(440); phone.login("1001", %q)`, testUsers["1001"]), nil)
	p.waitTrue(`phone.registered()`, 10*time.Second)
	desk := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 30 * time.Second})
	waitFor(t, 10*time.Second, "phone registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	p.eval(`phone.call("1002")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	time.Sleep(3 * time.Second)
	p.eval(`phone.hold()`, nil)
	p.waitTrue(`phone.held()`, 10*time.Second)
	waitFor(t, 10*time.Second, "music on hold logged", func() bool { return strings.Contains(s.logs(), "playing music on hold") })
	time.Sleep(4 * time.Second)
	p.eval(`phone.unhold()`, nil)
	p.waitTrue(`!phone.held()`, 10*time.Second)
	time.Sleep(3 * time.Second)
	p.eval(`phone.hangup()`, nil)
	desk.wait(t, 40*time.Second)
	heard := desk.heard(t)
	assertHoldSequence(t, "desk phone", heard.PCM, heard.Rate, 440, 2*time.Second)
}

// A desk phone (baresip, PCMU, sending 1000 Hz) calls a browser (Opus),
// puts it on hold (baresip hold: re-INVITE with a=sendonly) and resumes:
// the browser hears 1000 Hz, then the music on hold, then 1000 Hz again.
func TestMusicOnHoldPhoneHolds(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	p := openPage(t, "https://"+s.addr("https")+"/")
	p.eval(fmt.Sprintf(`phone.setTone(440); phone.login("1001", %q)`, testUsers["1001"]), nil)
	p.waitTrue(`phone.registered()`, 10*time.Second)
	ctrl := freeTCPPortOn(t, testHostIP)
	desk := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 60 * time.Second,
		codecs: "PCMU/8000/1", dial: "1001", runFor: 40 * time.Second, ctrlPort: ctrl})
	p.waitTrue(`phone.incoming()`, 15*time.Second)
	p.eval(`phone.answer()`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	time.Sleep(time.Second)
	before := p.listen(3 * time.Second)
	desk.command(t, ctrl, "hold", "")
	waitFor(t, 10*time.Second, "music on hold logged", func() bool { return strings.Contains(s.logs(), "playing music on hold") })
	// The page's analyser smooths its spectrum from one reading to the
	// next (0.8 of each is the last one's): readings taken and dropped
	// here let the phone's tone fade out of it.
	time.Sleep(500 * time.Millisecond)
	_ = p.listen(2 * time.Second)
	during := p.listen(4 * time.Second)
	desk.command(t, ctrl, "resume", "")
	time.Sleep(500 * time.Millisecond)
	_ = p.listen(time.Second) // the music fades out of the analyser
	after := p.listen(3 * time.Second)
	p.eval(`phone.hangup()`, nil)

	heardTone(t, "browser before the hold", before, 1000)
	music, holder := 0, 0
	for _, w := range during {
		if w.DBFS > -40 && w.Hz > 980 && w.Hz < 1020 {
			holder++
		}
		for _, f := range mohNotes {
			if w.DBFS > -40 && w.Hz > f-20 && w.Hz < f+20 {
				music++
				break
			}
		}
	}
	t.Logf("browser on hold heard the music's notes in %d of %d windows: %v", music, len(during), during)
	if music < len(during)*2/3 {
		t.Fatalf("browser on hold did not hear the music on hold")
	}
	if holder > len(during)/4 {
		t.Fatalf("browser on hold heard the holding phone's 1000 Hz in %d windows", holder)
	}
	heardTone(t, "browser after the resume", after, 1000)
}

// An older phone holds the RFC 2543 way (re-INVITE with c=0.0.0.0, still
// sendrecv): the other party hears the music on hold instead of the
// phone's 1000 Hz, and the phone again after the resume.
func TestMusicOnHoldNullAddress(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	d := device(t, s, "1002")
	calleeMedia := newRTPPeer(t)
	callerMedia := newRTPPeer(t)
	c := dialSIP(t, s, "udp")
	cl := c.startInvite("1001", testUsers["1001"], "1002", callerMedia.port())
	inv := d.mustRecvRequest("INVITE", 5*time.Second)
	d.respond(inv, 200, "OK", offer(calleeMedia.port()))
	res := cl.next()
	for res.StatusCode < 200 {
		res = cl.next()
	}
	if res.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", res.StatusCode)
	}
	cl.ack(res)
	d.mustRecvRequest("ACK", 5*time.Second)
	stop := make(chan struct{})
	defer close(stop)
	go callerMedia.sendTone(mediaAddr(t, res.Body()), 1000, 30*time.Second, stop)

	heard := func(what string) []int16 {
		t.Helper()
		calleeMedia.clear()
		calleeMedia.waitPackets(t, 100, 8*time.Second)
		pcm, _ := calleeMedia.received()
		t.Logf("callee %s: %s", what, summary(analyse(pcm)))
		return pcm[len(pcm)/4:] // past a switch at the start
	}
	assertHeardTone(t, "callee before the hold", promptOf(heard("before the hold")), 1000)

	hold := strings.Replace(offer(callerMedia.port()), "o=t 1 1", "o=t 1 2", 1)
	hold = strings.Replace(hold, "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1) + "a=sendrecv\r\n"
	if r := cl.reinvite(res, hold); r.StatusCode != 200 {
		t.Fatalf("hold answered %d:\n%s", r.StatusCode, r.Body())
	}
	waitFor(t, 5*time.Second, "music on hold logged", func() bool { return strings.Contains(s.logs(), "playing music on hold") })
	if k := mohWindow(heard("on hold"), 8000, 1000); k != "moh" {
		t.Fatalf("callee on hold did not hear the music alone (%q)", k)
	}

	resume := strings.Replace(offer(callerMedia.port()), "o=t 1 1", "o=t 1 3", 1) + "a=sendrecv\r\n"
	if r := cl.reinvite(res, resume); r.StatusCode != 200 {
		t.Fatalf("resume answered %d:\n%s", r.StatusCode, r.Body())
	}
	assertHeardTone(t, "callee after the resume", promptOf(heard("after the resume")), 1000)

	cl.bye(res)
	if r := c.recv(5 * time.Second); r == nil || r.StatusCode != 200 {
		t.Fatalf("BYE answered with %v", r)
	}
	bye := d.mustRecvRequest("BYE", 5*time.Second)
	d.respond(bye, 200, "OK", "")
}
