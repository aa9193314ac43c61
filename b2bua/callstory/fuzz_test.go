package callstory

import (
	"strings"
	"testing"
)

// Whatever a history file holds, Load refuses it or loads a bounded,
// consistent history: never a panic.
func FuzzLoad(f *testing.F) {
	r := NewRecorder(5)
	feed(r, step{0, true, msg("INVITE sip:x@h SIP/2.0", "c", "1 INVITE", "v=0\r\n")})
	r.Link("c", "b")
	var buf strings.Builder
	_ = saveSnapshot(r, &buf)
	f.Add(buf.String())
	f.Add(`{"version":1,"stories":[{"CallID":"x","Legs":[]},{"CallID":"","Legs":["a"]}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		r := NewRecorder(3)
		n, err := r.Load(strings.NewReader(data))
		if err == nil && (n > 3 || len(r.order) > 3 || len(r.stories) != len(r.order)) {
			t.Fatalf("loaded %d: %d ordered, %d stories", n, len(r.order), len(r.stories))
		}
		for _, id := range r.order {
			if st, ok := r.Story(id); ok {
				_ = st.Verdicts(t0)
			}
		}
	})
}
