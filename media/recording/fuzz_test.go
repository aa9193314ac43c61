package recording_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/softswitch/softswitch/media/recording"
)

// FuzzPath: whatever name a script passes, an accepted one lands directly
// in the recordings directory, never above or below it, and never as a
// hidden file.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"call-1", "../x", "a/b", "..", ".wav", "x.opus", `a\b`, "/abs", "ok..", "\x00"} {
		f.Add(s)
	}
	const dir = "/data/recordings"
	f.Fuzz(func(t *testing.T, name string) {
		for _, format := range []recording.Format{recording.FormatWAV, recording.FormatOgg} {
			p, err := recording.Path(dir, name, format)
			if err != nil {
				continue
			}
			base := filepath.Base(p)
			if filepath.Dir(p) != dir || strings.HasPrefix(base, ".") || !strings.HasSuffix(base, format.Ext()) || base == format.Ext() {
				t.Fatalf("Path(%q, %s) = %q", name, format, p)
			}
		}
	})
}
