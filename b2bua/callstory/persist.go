package callstory

import (
	"encoding/json"
	"fmt"
	"io"
)

// snapshot is the form in which versions before the call_history table
// saved a Recorder (DATA/call-history.json): its stories, oldest first.
type snapshot struct {
	Version int     `json:"version"`
	Stories []Story `json:"stories"`
}

const snapshotVersion = 1

// Load adds the stories of a snapshot, as older than any recorded since;
// beyond the recorder's history the oldest are left out. It returns how
// many it added.
func (r *Recorder) Load(rd io.Reader) (int, error) {
	var snap snapshot
	if err := json.NewDecoder(io.LimitReader(rd, 1<<30)).Decode(&snap); err != nil {
		return 0, fmt.Errorf("call history: load: %w", err)
	}
	if snap.Version != snapshotVersion {
		return 0, fmt.Errorf("call history: load: version %d, want %d", snap.Version, snapshotVersion)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	room := r.max - len(r.order)
	if room <= 0 {
		return 0, nil
	}
	saved := snap.Stories
	if len(saved) > room {
		saved = saved[len(saved)-room:]
	}
	var ids []string
	for i := range saved {
		st := saved[i]
		if st.CallID == "" || r.stories[st.CallID] != nil || len(st.Legs) == 0 {
			continue
		}
		if len(st.Entries) > maxEntries {
			st.Entries = st.Entries[:maxEntries]
		}
		r.stories[st.CallID] = &st
		r.dirty[st.CallID] = true
		for j, l := range st.Legs {
			name := "A"
			if j > 0 {
				name = fmt.Sprintf("B%d", j)
			}
			r.legs[l] = legRef{call: st.CallID, name: name}
		}
		ids = append(ids, st.CallID)
	}
	r.order = append(ids, r.order...)
	return len(ids), nil
}
