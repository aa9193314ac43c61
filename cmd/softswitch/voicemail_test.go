package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

func TestWriteVoicemails(t *testing.T) {
	var b bytes.Buffer
	writeVoicemails(&b, []store.Voicemail{
		{ID: 3, Caller: "1001", Created: time.Now(), Duration: 5140 * time.Millisecond, Path: "voicemail/1002/a.wav"},
		{ID: 4, Created: time.Now(), Heard: true, Path: "voicemail/1002/b.wav"},
	}, "/data")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", b.String())
	}
	for i, want := range [][]string{{"3", "1001", "5.1s", "new", filepath.Join("/data", "voicemail/1002/a.wav")}, {"4", "-", "0s", "heard"}} {
		f := strings.Fields(lines[i+1])
		if len(f) != 7 || f[0] != want[0] || f[3] != want[1] || f[4] != want[2] || f[5] != want[3] {
			t.Errorf("line %q: want id %s, caller %s, duration %s, %s", lines[i+1], want[0], want[1], want[2], want[3])
		}
		if len(want) > 4 && f[6] != want[4] {
			t.Errorf("file %s, want %s", f[6], want[4])
		}
	}
}

func TestVoicemailCmdUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"list"}, {"show", "1002"}, {"list", "../x"}, {"list", "1002", "extra"}} {
		var out, errb bytes.Buffer
		if code := run(t.Context(), append([]string{"voicemail"}, args...), &out, &errb); code != 2 {
			t.Errorf("voicemail %q: exit %d, want 2 (usage); stderr %s", args, code, errb.String())
		}
	}
}
