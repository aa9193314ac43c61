package sipleg

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseDTMFInfo reads arbitrary INFO bodies with the lower-cased
// content type handleInfo passes: it accepts only DTMF digits with a
// duration under 10 s, and reads back the dtmf-relay body a phone writes
// for any digit and duration.
func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", byte('5'), uint16(160)) // Cisco, Grandstream, JsSIP
	f.Add("application/dtmf-relay", "Signal= 1\nDuration= 250\n", byte('#'), uint16(250))   // Linphone
	f.Add("application/dtmf-relay;charset=utf-8", "Signal=11\r\nDuration=100", byte('*'), uint16(0))
	f.Add("Application/DTMF-Relay", "signal=A\r\nduration=70\r\n", byte('d'), uint16(9999))
	f.Add("application/dtmf", "*", byte('x'), uint16(100))
	f.Fuzz(func(t *testing.T, ct, body string, digit byte, ms uint16) {
		d, dur, ok := parseDTMFInfo(strings.ToLower(ct), body)
		if ok && (dur <= 0 || dur >= 10*time.Second || !strings.ContainsRune("0123456789*#ABCD", d)) {
			t.Fatalf("accepted %q for %v", d, dur)
		}
		sig := strings.ToUpper(string(rune(digit)))
		if !strings.Contains("0123456789*#ABCD", sig) || ms == 0 || ms >= 10000 {
			return
		}
		d, dur, ok = parseDTMFInfo("application/dtmf-relay", "Signal="+sig+"\r\nDuration="+strconv.Itoa(int(ms))+"\r\n")
		if !ok || string(d) != sig || dur != time.Duration(ms)*time.Millisecond {
			t.Fatalf("Signal=%s Duration=%d read as %q %v %v", sig, ms, d, dur, ok)
		}
	})
}

// FuzzKindForOffer reads arbitrary offers: kindForOffer never panics, an
// error is always one answered 488, and an offer it accepts is one whose
// first audio line names a profile it knows.
func FuzzKindForOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"))
	f.Add([]byte("v=0\no=- 1 1 IN IP4 h\ns=-\nt=0 0\nm=video 9 RTP/AVP 96\nm=audio 0 RTP/SAVP 0\n"))
	f.Add([]byte("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		k, err := kindForOffer(body)
		if err != nil {
			if negotiationStatus(err) != 488 {
				t.Fatalf("error %v not answered 488", err)
			}
			return
		}
		if k != MediaRTP && k != MediaWebRTC {
			t.Fatalf("kind %v", k)
		}
		if !strings.Contains(strings.ToUpper(string(body)), "RTP/") {
			t.Fatalf("accepted an offer without an RTP profile: %q", body)
		}
	})
}
