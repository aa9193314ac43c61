package tests

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// videoFigures is what a page measured of its call's video
// (web/static/rtcstats.js video()).
type videoFigures struct {
	Codec           string `json:"codec"`
	FramesDecoded   int    `json:"framesDecoded"`
	FrameWidth      int    `json:"frameWidth"`
	FrameHeight     int    `json:"frameHeight"`
	PacketsReceived int    `json:"packetsReceived"`
	PacketsLost     int    `json:"packetsLost"`
	PLISent         int    `json:"pliSent"`
	FIRSent         int    `json:"firSent"`
	NACKSent        int    `json:"nackSent"`
	FramesEncoded   int    `json:"framesEncoded"`
	SentWidth       int    `json:"sentWidth"`
	SentHeight      int    `json:"sentHeight"`
	PLIReceived     int    `json:"pliReceived"`
	FIRReceived     int    `json:"firReceived"`
	NACKReceived    int    `json:"nackReceived"`
	SentSSRC        uint32 `json:"sentSSRC"`
}

// registerSIPjsVideo registers ext from page p (SIP.js bundle loaded) as
// a SIP.js SimpleUser that answers every call with its camera (Chromium's
// fake one) and a 1000 Hz tone for a microphone, playing what it gets in
// a <video id="sipjsvideo">.
func registerSIPjsVideo(t *testing.T, s *server, p *page, ext string) {
	t.Helper()
	registerSimpleUser(t, s, p, ext, `
		// The fake microphone is no signal to measure: a 1000 Hz tone instead.
		const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		navigator.mediaDevices.getUserMedia = async (c) => {
			const stream = c.video ? await gum({ video: c.video, audio: false }) : new MediaStream();
			if (c.audio) {
				const ctx = new AudioContext();
				await ctx.resume();
				const osc = ctx.createOscillator();
				osc.frequency.value = 1000;
				const dst = ctx.createMediaStreamDestination();
				osc.connect(dst);
				osc.start();
				for (const tr of dst.stream.getAudioTracks()) stream.addTrack(tr);
			}
			return stream;
		};
		const video = document.createElement("video");
		video.id = "sipjsvideo";
		video.autoplay = true;
		video.playsInline = true;
		document.body.appendChild(video);`,
		`{ remote: { video }, constraints: { audio: true, video: true } }`)
}

// sipjsVideo reads the SIP.js page's video figures.
func sipjsVideo(p *page) videoFigures {
	var v videoFigures
	p.eval(`(() => { const s = window.su && window.su.session; const pc = s && s.sessionDescriptionHandler && s.sessionDescriptionHandler.peerConnection;
		return pc ? window.rtcstats.video(pc) : null; })()`, &v)
	return v
}

// sipjsBrightness is the mean luma (0-255) of the picture the SIP.js
// page shows now.
func sipjsBrightness(p *page) float64 {
	var y float64
	p.eval(`(() => {
		const v = document.getElementById("sipjsvideo");
		if (!v.videoWidth) return 0;
		const c = document.createElement("canvas");
		c.width = 64; c.height = 48;
		const g = c.getContext("2d");
		g.drawImage(v, 0, 0, 64, 48);
		const d = g.getImageData(0, 0, 64, 48).data;
		let sum = 0;
		for (let i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
		return sum / (d.length / 4);
	})()`, &y)
	return y
}

// jssipVideo reads the web phone's video figures.
func jssipVideo(p *page) videoFigures {
	var v videoFigures
	p.eval(`phone.video()`, &v)
	return v
}

// decodesVideo checks that a side's decoded frames grow over d and that
// their size is what the other side sends (read again for a few seconds:
// a loaded sender may scale its picture, and the receiver follows a
// frame later).
func decodesVideo(t *testing.T, who string, read func() videoFigures, sender func() videoFigures, d time.Duration) videoFigures {
	t.Helper()
	before := read()
	time.Sleep(d)
	after := read()
	from := sender()
	t.Logf("%s video: before %+v, after %+v; sender %+v", who, before, after, from)
	if after.FramesDecoded-before.FramesDecoded < 5 {
		t.Fatalf("%s decoded no video: %d then %d frames", who, before.FramesDecoded, after.FramesDecoded)
	}
	for end := time.Now().Add(5 * time.Second); after.FrameWidth == 0 || after.FrameWidth != from.SentWidth || after.FrameHeight != from.SentHeight; {
		if time.Now().After(end) {
			t.Fatalf("%s decodes %dx%d, the sender sends %dx%d", who, after.FrameWidth, after.FrameHeight, from.SentWidth, from.SentHeight)
		}
		time.Sleep(200 * time.Millisecond)
		after, from = read(), sender()
	}
	return after
}

// dropVideo drops a share of the UDP packets carrying RTP SSRC ssrc (the
// SSRC sits in the clear in SRTP, at offset 8 of the UDP payload) on the
// test namespace's loopback (all of them for probability "1"), until
// lift is called or the test ends.
func dropVideo(t *testing.T, ssrc uint32, probability string) (lift func()) {
	t.Helper()
	rule := []string{"-p", "udp", "-m", "u32", "--u32", fmt.Sprintf("0>>22&0x3C@16=0x%08x", ssrc)}
	if probability != "1" {
		rule = append(rule, "-m", "statistic", "--mode", "random", "--probability", probability)
	}
	return dropInput(t, append(rule, "-j", "DROP"))
}

// videoCall starts a server, registers a SIP.js client answering with
// video as 1002 (page b) and logs the web phone in as 1001 (page a).
func videoCall(t *testing.T) (s *server, a, b *page) {
	t.Helper()
	s = startServer(t, "")
	bundle := bundleSIPjs(t)
	b = openPage(t, "https://"+s.addr("https")+"/")
	b.addScript(bundle)
	registerSIPjsVideo(t, s, b, "1002")
	return s, loginPage(t, s, "1001"), b
}

// A JsSIP web phone with its camera on calls a SIP.js client answering
// with its camera (Chromium's fake one): each side decodes the other's
// video at the size it is sent, audio flows both ways, and with 5 % of
// the caller's video packets dropped the callee keeps decoding, its
// NACKs and keyframe requests reaching the caller through the B2BUA.
func TestBrowserVideoCall(t *testing.T) {
	t.Parallel()
	s, a, b := videoCall(t)
	a.eval(`phone.setTone(440); phone.setCamera(true); phone.call("1002")`, nil)
	a.waitTrue(`phone.inCall()`, 15*time.Second)
	waitFor(t, 15*time.Second, "video decoded on both sides", func() bool {
		return jssipVideo(a).FramesDecoded > 0 && sipjsVideo(b).FramesDecoded > 0
	})
	decodesVideo(t, "JsSIP", func() videoFigures { return jssipVideo(a) }, func() videoFigures { return sipjsVideo(b) }, 2*time.Second)
	decodesVideo(t, "SIP.js", func() videoFigures { return sipjsVideo(b) }, func() videoFigures { return jssipVideo(a) }, 2*time.Second)

	// The web phone shows both pictures, and fits a phone's width.
	var shown bool
	a.eval(`(() => { const r = document.getElementById("remotevideo"), l = document.getElementById("preview");
		return !r.hidden && !l.hidden && r.videoWidth > 0 && l.videoWidth > 0; })()`, &shown)
	if !shown {
		t.Fatal("the web phone does not show the remote video and the preview")
	}
	a.viewport(390, 844)
	a.assertReadable(390)
	// The camera toggle: the callee sees black while it is off, the
	// picture again once it is back on.
	waitFor(t, 5*time.Second, "the callee sees a picture", func() bool { return sipjsBrightness(b) > 20 })
	a.eval(`phone.setCamera(false)`, nil)
	waitFor(t, 10*time.Second, "the callee sees black with the camera off", func() bool { return sipjsBrightness(b) < 5 })
	a.eval(`phone.setCamera(true)`, nil)
	waitFor(t, 10*time.Second, "the callee sees the picture again", func() bool { return sipjsBrightness(b) > 20 })

	// Audio both ways, as in the audio-only calls.
	heardTone(t, "JsSIP", a.listen(3*time.Second), 1000)
	if heard := heardIn(b, "sipjsvideo"); heard.DBFS < -35 || heard.Hz < 420 || heard.Hz > 460 {
		t.Fatalf("SIP.js did not hear the caller's 440 Hz: %+v", heard)
	} else {
		t.Logf("SIP.js heard %+v", heard)
	}

	// 5 % of the caller's video lost on its leg: the callee asks again
	// (NACK) or for a keyframe (PLI), the caller gets the requests, and
	// the picture goes on.
	caller := jssipVideo(a)
	callee := sipjsVideo(b)
	liftLoss := dropVideo(t, caller.SentSSRC, "0.05")
	time.Sleep(4 * time.Second)
	lossy := decodesVideo(t, "SIP.js under loss", func() videoFigures { return sipjsVideo(b) }, func() videoFigures { return jssipVideo(a) }, 3*time.Second)
	sent := jssipVideo(a)
	asked := (lossy.NACKSent + lossy.PLISent + lossy.FIRSent) - (callee.NACKSent + callee.PLISent + callee.FIRSent)
	got := (sent.NACKReceived + sent.PLIReceived + sent.FIRReceived) - (caller.NACKReceived + caller.PLIReceived + caller.FIRReceived)
	t.Logf("under loss: callee lost %d packets, sent %d NACK %d PLI; caller received %d NACK %d PLI",
		lossy.PacketsLost-callee.PacketsLost, lossy.NACKSent-callee.NACKSent, lossy.PLISent-callee.PLISent,
		sent.NACKReceived-caller.NACKReceived, sent.PLIReceived-caller.PLIReceived)
	if asked == 0 || got == 0 {
		t.Fatalf("feedback under loss: the callee sent %d NACK/PLI/FIR, the caller received %d", asked, got)
	}
	liftLoss()

	// Three seconds of the caller's video lost whole, more than its
	// sender keeps to resend: the callee asks for a keyframe, which the
	// caller gets through the B2BUA, and the picture comes back within a
	// generous bound once packets flow again (the time is logged).
	before := jssipVideo(a)
	liftGap := dropVideo(t, caller.SentSSRC, "1")
	time.Sleep(3 * time.Second)
	frozen := sipjsVideo(b)
	liftGap()
	lifted := time.Now()
	var back time.Duration
	for back == 0 && time.Since(lifted) < 5*time.Second {
		time.Sleep(50 * time.Millisecond)
		if sipjsVideo(b).FramesDecoded > frozen.FramesDecoded+2 {
			back = time.Since(lifted)
		}
	}
	after := jssipVideo(a)
	t.Logf("after a 3 s gap the callee decodes again in %v; the caller got %d PLI, %d FIR, %d NACK more",
		back, after.PLIReceived-before.PLIReceived, after.FIRReceived-before.FIRReceived, after.NACKReceived-before.NACKReceived)
	if back == 0 {
		t.Fatalf("the picture did not come back within 5 s of a 3 s gap: %+v", sipjsVideo(b))
	}
	if after.PLIReceived+after.FIRReceived == before.PLIReceived+before.FIRReceived {
		t.Fatalf("no keyframe request reached the caller after a 3 s gap")
	}

	// Hold and resume (re-INVITEs carrying both m-lines, answered by the
	// caller's leg alone): the video flows again afterwards.
	a.eval(`phone.hold()`, nil)
	a.waitTrue(`phone.held()`, 10*time.Second)
	time.Sleep(2 * time.Second) // JsSIP refuses to re-offer until its re-INVITE is answered
	a.eval(`phone.unhold()`, nil)
	a.waitTrue(`!phone.held()`, 10*time.Second)
	time.Sleep(time.Second)
	decodesVideo(t, "SIP.js after hold", func() videoFigures { return sipjsVideo(b) }, func() videoFigures { return jssipVideo(a) }, 2*time.Second)
	decodesVideo(t, "JsSIP after hold", func() videoFigures { return jssipVideo(a) }, func() videoFigures { return sipjsVideo(b) }, 2*time.Second)

	var callID string
	a.eval(`phone.lastCallID()`, &callID)
	a.eval(`phone.hangup()`, nil)
	waitFor(t, 10*time.Second, "CDR", func() bool {
		return strings.Contains(runCLI(t, "cdr", "list", "--data", s.data), "user/1002")
	})
	if !strings.Contains(s.logs(), "video relayed") {
		t.Fatalf("the server did not relay video:\n%s", grepLines(s.logs(), "video"))
	}
	// The call's story counts the video each leg relayed.
	story := runCLI(t, "call", "show", callID, "--data", s.data)
	relayed := regexp.MustCompile(`video relayed: [1-9]\d* packets from its peer \(\d+ not relayed\), [1-9]\d* to it; feedback: [1-9]\d* from its peer relayed on, [1-9]\d* to it`)
	if n := len(relayed.FindAllString(story, -1)); n != 2 {
		t.Fatalf("call show has %d legs with video relayed both ways, want 2:\n%s", n, grepLines(story, "video"))
	}
}

// A JsSIP web phone with its camera on calls a baresip desk phone: the
// phone is offered audio only, the browser's video is declined (port 0 in
// the answer) without an error, and audio flows both ways (Opus <-> PCMU).
func TestBrowserVideoToDeskPhone(t *testing.T) {
	t.Parallel()
	s := startPhoneServer(t)
	p := loginPage(t, s, "1001")
	desk := startBaresip(t, s, baresipOpts{ext: "1002", password: testUsers["1002"], tone: 1000, toneFor: 30 * time.Second,
		codecs: "PCMU/8000/1", autoAnswer: true, runFor: 10 * time.Second})
	waitFor(t, 10*time.Second, "phone registered", func() bool { return strings.Contains(s.registrations("1002"), "via udp") })
	p.eval(`phone.setTone(440); phone.setCamera(true); phone.call("1002")`, nil)
	p.waitTrue(`phone.inCall()`, 10*time.Second)
	var local, remote string
	p.eval(`phone.sdp().local`, &local)
	p.eval(`phone.sdp().remote`, &remote)
	if !strings.Contains(local, "m=video ") {
		t.Fatalf("the browser offered no video:\n%s", local)
	}
	if !strings.Contains(remote, "m=video 0 ") || strings.Count(remote, "m=") != 2 {
		t.Fatalf("the browser's video was not declined with port 0:\n%s", remote)
	}
	time.Sleep(time.Second)
	heardTone(t, "browser", p.listen(4*time.Second), 1000)
	if v := jssipVideo(p); v.FramesDecoded != 0 || v.PacketsReceived != 0 {
		t.Fatalf("video arrived on a call to a desk phone: %+v", v)
	}
	var errText string
	p.eval(`phone.error()`, &errText)
	if errText != "" {
		t.Fatalf("the page shows an error: %q", errText)
	}
	p.eval(`phone.hangup()`, nil)
	desk.wait(t, 30*time.Second)
	assertHeardTone(t, "desk phone", desk.heard(t), 440)
	if logs := s.logs(); !strings.Contains(logs, "video declined: the callee takes audio only") {
		t.Fatalf("the server did not log the declined video:\n%s", grepLines(logs, "video"))
	}
}

// The JsSIP caller prefers H.264 (its offer lists it first): both legs
// negotiate H.264 on their own payload types and each side decodes the
// other's H.264 at the size it is sent.
func TestBrowserVideoH264(t *testing.T) {
	t.Parallel()
	_, a, b := videoCall(t)
	a.eval(`(() => {
		const offer = RTCPeerConnection.prototype.createOffer;
		RTCPeerConnection.prototype.createOffer = function (...args) {
			const caps = RTCRtpReceiver.getCapabilities("video").codecs;
			const h264 = caps.filter((c) => c.mimeType === "video/H264");
			for (const tr of this.getTransceivers()) {
				if (tr.receiver.track.kind === "video") tr.setCodecPreferences([...h264, ...caps.filter((c) => c.mimeType !== "video/H264")]);
			}
			return offer.apply(this, args);
		};
		return true;
	})()`, nil)
	a.eval(`phone.setTone(440); phone.setCamera(true); phone.call("1002")`, nil)
	a.waitTrue(`phone.inCall()`, 15*time.Second)
	waitFor(t, 15*time.Second, "video decoded on both sides", func() bool {
		return jssipVideo(a).FramesDecoded > 0 && sipjsVideo(b).FramesDecoded > 0
	})
	ja := decodesVideo(t, "JsSIP", func() videoFigures { return jssipVideo(a) }, func() videoFigures { return sipjsVideo(b) }, 2*time.Second)
	jb := decodesVideo(t, "SIP.js", func() videoFigures { return sipjsVideo(b) }, func() videoFigures { return jssipVideo(a) }, 2*time.Second)
	if ja.Codec != "video/H264" || jb.Codec != "video/H264" {
		t.Fatalf("codecs: JsSIP receives %q, SIP.js %q; want H.264 both ways", ja.Codec, jb.Codec)
	}
	a.eval(`phone.hangup()`, nil)
	b.waitTrue(`!window.su.session || window.su.session.state === "Terminated"`, 10*time.Second)
}

// roomCall is what a room page measured of one of its calls.
type roomCall struct {
	Hz    float64       `json:"hz"`
	DBFS  float64       `json:"dBFS"`
	State string        `json:"state"`
	Video *videoFigures `json:"video"`
}

// A three-browser "room" as the SIP.js multiparty material builds it
// (tests/browser/room.js): 1002 is the room's shared address; 1001 and
// then 1003 join by MESSAGE, the room calls each back and has 1001 call
// 1003, so every pair is in a two-party call through the softswitch.
// Each browser sends its own tone and its camera: in every call both
// sides hear the other's tone and decode the other's video.
func TestBrowserVideoRoom(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	runCLI(t, "user", "add", "1003", "--password", "pw-1003-secret", "--data", s.data)
	users := map[string]string{"1001": testUsers["1001"], "1002": testUsers["1002"], "1003": "pw-1003-secret"}
	tones := map[string]float64{"1001": 440, "1002": 1000, "1003": 700}
	bundle := bundleSIPjs(t)
	roomJS, _ := filepath.Abs("browser/room.js")
	pages := map[string]*page{}
	for _, ext := range []string{"1002", "1001", "1003"} {
		p := openPage(t, "https://"+s.addr("https")+"/")
		p.addScript(bundle)
		p.addScript(roomJS)
		p.eval(fmt.Sprintf(`window.room.start(%q, %q, %v, %v)`, ext, users[ext], tones[ext], ext == "1002"), nil)
		waitFor(t, 10*time.Second, ext+" registered", func() bool { return strings.Contains(s.registrations(ext), "via wss") })
		pages[ext] = p
	}
	established := func(ext string, peers ...string) func() bool {
		return func() bool {
			var f map[string]roomCall
			pages[ext].eval(`window.room.figures()`, &f)
			for _, peer := range peers {
				if c, ok := f[peer]; !ok || c.State != "Established" || c.Video == nil || c.Video.FramesDecoded == 0 {
					return false
				}
			}
			return true
		}
	}
	pages["1001"].eval(`window.room.join("1002")`, nil)
	waitFor(t, 20*time.Second, "the room called 1001 back", established("1001", "1002"))
	pages["1003"].eval(`window.room.join("1002")`, nil)
	waitFor(t, 20*time.Second, "1003 in calls with the room and 1001", established("1003", "1002", "1001"))
	waitFor(t, 20*time.Second, "1001 in calls with the room and 1003", established("1001", "1002", "1003"))
	waitFor(t, 20*time.Second, "the room in calls with both", established("1002", "1001", "1003"))

	time.Sleep(time.Second)
	before := map[string]map[string]roomCall{}
	for ext, p := range pages {
		var f map[string]roomCall
		p.eval(`window.room.figures()`, &f)
		before[ext] = f
	}
	time.Sleep(2 * time.Second)
	for ext, p := range pages {
		var f map[string]roomCall
		p.eval(`window.room.figures()`, &f)
		for peer, c := range f {
			b := before[ext][peer]
			t.Logf("%s from %s: %.0f Hz %.1f dBFS, video %s %dx%d, %d frames in 2 s", ext, peer, c.Hz, c.DBFS,
				c.Video.Codec, c.Video.FrameWidth, c.Video.FrameHeight, c.Video.FramesDecoded-b.Video.FramesDecoded)
			if c.DBFS < -35 || c.Hz < tones[peer]-20 || c.Hz > tones[peer]+20 {
				t.Errorf("%s does not hear %s's %.0f Hz: %.0f Hz at %.1f dBFS", ext, peer, tones[peer], c.Hz, c.DBFS)
			}
			if c.Video.FramesDecoded-b.Video.FramesDecoded < 5 || c.Video.FrameWidth == 0 {
				t.Errorf("%s does not see %s: %+v", ext, peer, c.Video)
			}
		}
		if len(f) != 2 {
			t.Errorf("%s is in %d calls, want 2: %v", ext, len(f), f)
		}
	}
	if t.Failed() {
		for ext, p := range pages {
			var l []string
			p.eval(`window.room.log()`, &l)
			t.Logf("%s: %v", ext, l)
		}
		t.FailNow()
	}
	for _, p := range pages {
		p.eval(`window.room.hangupAll()`, nil)
	}
	waitFor(t, 15*time.Second, "three CDRs", func() bool {
		return strings.Count(runCLI(t, "cdr", "list", "--data", s.data), "user/") >= 3
	})
}
