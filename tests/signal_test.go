package tests

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// A second SIGTERM (or SIGINT) while the server drains exits at once,
// without waiting for the calls still up (issue 12: SIGTERM's drain hung
// on a stuck script and SIGINT did not stop the process).
func TestSecondSignalForcesExit(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", "--dialplan", testDialplan)
	rtp := newRTPPeer(t)
	answeredCall(t, s, "07010002000", rtp.port()) // the test audio plays about 10 s
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "drain logged", func() bool { return strings.Contains(s.logs(), "terminating: draining calls") })
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second): // the drain would wait for the audio's end
		t.Fatalf("softswitch still running 5 s after a second SIGTERM:\n%s", s.logs())
	}
	if s.waitErr == nil {
		t.Errorf("forced exit reported success")
	}
	if !strings.Contains(s.logs(), "second signal") {
		t.Errorf("forced exit not logged:\n%s", s.logs())
	}
	t.Logf("exited %v after the second signal", time.Since(start).Round(time.Millisecond))
}
