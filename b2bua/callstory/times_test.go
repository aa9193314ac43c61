package callstory

import (
	"strings"
	"testing"
	"time"
)

// TestRenderMediaTimes: first RTP both ways, the first ICE check, DTLS
// up and a media timeout are shown as offsets from the call's first
// message, as the ladder times its messages; what never happened says so.
func TestRenderMediaTimes(t *testing.T) {
	r := NewRecorder(10)
	feed(r,
		step{0, true, msg("INVITE sip:2000@h SIP/2.0", "web", "1 INVITE", "")},
		step{10, false, msg("SIP/2.0 200 OK", "web", "1 INVITE", "")},
	)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r.SetMedia("web", []LegMedia{
		{Leg: "A", Kind: "webrtc", ICEKnown: true, ICEChecks: 3, ICEPeer: "127.0.0.1:5000", DTLSUp: true, DTLSRole: "client",
			ICEFirstCheck: at(512), DTLSUpAt: at(690), FirstRTPIn: at(702), FirstRTPOut: at(711)},
		{Leg: "B", Kind: "rtp", FirstRTPOut: at(1250), MediaFailedAt: at(31250), MediaFailure: "no RTP for 30s"},
	})
	st, _ := r.Story("web")
	if o, ok := st.Offset(at(1500)); !ok || o != 1.5 {
		t.Errorf("offset %v %v, want 1.5", o, ok)
	}
	if _, ok := st.Offset(time.Time{}); ok {
		t.Error("the zero time has an offset")
	}
	var b strings.Builder
	if err := st.Render(&b, at(40000)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  leg A (webrtc):",
		"    first RTP: from its peer +0.702, to it +0.711\n",
		"    ICE: 3 connectivity checks, the first at +0.512, pair 127.0.0.1:5000, 0 datagrams refused; DTLS-SRTP up at +0.690 (we are the client)\n",
		"    first RTP: from its peer never, to it +1.250\n",
		"    media timeout at +31.250: no RTP for 30s\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("render lacks %q:\n%s", want, b.String())
		}
	}
	if n := strings.Count(b.String(), "media timeout"); n != 1 {
		t.Errorf("%d media timeout lines, want leg B's only:\n%s", n, b.String())
	}
	// The times survive the archive (call history across restarts).
	enc, err := EncodeStory(st)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeStory(enc)
	if err != nil {
		t.Fatal(err)
	}
	var b2 strings.Builder
	if err := back.Render(&b2, at(40000)); err != nil || b2.String() != b.String() {
		t.Errorf("archived story renders differently (%v):\n%s\nwant:\n%s", err, b2.String(), b.String())
	}
}
