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
