package store

import (
	"errors"
	"testing"
	"time"
)

func TestVoicemail(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		now := time.Now().Truncate(time.Millisecond)
		id1, err := st.AddVoicemail(ctx, Voicemail{Ext: "1002", Caller: "1001", CallerName: "Alice", CallID: "c1",
			Created: now, Duration: 5200 * time.Millisecond, Path: "voicemail/1002/a.wav"})
		if err != nil {
			t.Fatal(err)
		}
		id2, err := st.AddVoicemail(ctx, Voicemail{Ext: "1002", Caller: "1003", Created: now, Path: "voicemail/1002/b.wav"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddVoicemail(ctx, Voicemail{Ext: "1002"}); err == nil {
			t.Fatal("a message without a file was stored")
		}
		if n, o, err := st.VoicemailCounts(ctx, "1002"); err != nil || n != 2 || o != 0 {
			t.Fatalf("counts = %d/%d, %v; want 2/0", n, o, err)
		}
		if err := st.MarkVoicemailHeard(ctx, "1002", id1); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkVoicemailHeard(ctx, "1001", id2); !errors.Is(err, ErrNotFound) {
			t.Fatalf("marking another extension's message = %v, want ErrNotFound", err)
		}
		if n, o, err := st.VoicemailCounts(ctx, "1002"); err != nil || n != 1 || o != 1 {
			t.Fatalf("counts = %d/%d, %v; want 1/1", n, o, err)
		}
		all, err := st.Voicemails(ctx, "1002")
		if err != nil || len(all) != 2 {
			t.Fatalf("Voicemails = %+v, %v", all, err)
		}
		if v := all[0]; v.ID != id1 || v.Caller != "1001" || v.CallerName != "Alice" || !v.Created.Equal(now) ||
			v.Duration != 5200*time.Millisecond || !v.Heard || v.Path != "voicemail/1002/a.wav" {
			t.Fatalf("first message = %+v", v)
		}
		if err := st.DeleteVoicemail(ctx, "1002", id1); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteVoicemail(ctx, "1002", id1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleting twice = %v, want ErrNotFound", err)
		}
		if n, o, err := st.VoicemailCounts(ctx, "1002"); err != nil || n != 1 || o != 0 {
			t.Fatalf("counts = %d/%d, %v; want 1/0", n, o, err)
		}
		if n, o, err := st.VoicemailCounts(ctx, "9999"); err != nil || n != 0 || o != 0 {
			t.Fatalf("counts of an empty box = %d/%d, %v", n, o, err)
		}
	})
}
