package siptrace

import (
	"bytes"
	"testing"
	"time"
)

func FuzzSummarize(f *testing.F) {
	for _, s := range []string{register, ok200, "", "SIP/2.0", "INVITE <sip:@>", "From: <sip:a@b\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Summarize(data)
		if s.Status != 0 && (s.Status < 100 || s.Status > 699) {
			t.Fatalf("status %d", s.Status)
		}
		p := EncodeHEP(nil, Message{Time: time.Unix(0, 0), Data: data, Remote: s.CallID()}, 1, s.FromUser(), s.CallID())
		if len(p) > maxHEP {
			t.Fatalf("hep packet %d bytes", len(p))
		}
	})
}

// Whatever the stream holds, the framer emits only bytes it was given, in
// order, and keeps at most maxFramed.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(register+ok200), 5)
	f.Add([]byte("\r\n\r\nl: 99999999999999999999\r\n\r\n"), 3)
	f.Add([]byte("Content-Length: -1\r\n\r\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		size = max(1, min(size, 1<<20))
		fs := newFramers()
		total := 0
		for i := 0; i < len(data); i += size {
			fs.feed("r", data[i:min(i+size, len(data))], func(m []byte) {
				if !bytes.Contains(data, m) {
					t.Fatalf("emitted bytes that are not in the stream: %q", m)
				}
				total += len(m)
			})
		}
		kept := 0
		if f := fs.conns["r"]; f != nil {
			kept = len(f.buf)
		}
		if kept > maxFramed || total+kept > len(data) {
			t.Fatalf("emitted %d and kept %d of %d bytes", total, kept, len(data))
		}
	})
}
