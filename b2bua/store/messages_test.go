package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestMessages(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		st := db.newStore(t)
		now := time.Now().Truncate(time.Millisecond)
		body := []byte("hello\x00\xff binary")
		id1, err := st.AddMessage(ctx, Message{Ext: "1002", Sender: "1001", ContentType: "application/octet-stream", Body: body, Created: now}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddMessage(ctx, Message{Ext: "1002", Sender: "1003", ContentType: "text/plain", Created: now}, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddMessage(ctx, Message{Ext: "1002", Sender: "1003", Body: []byte("x")}, 2); !errors.Is(err, ErrFull) {
			t.Fatalf("third message over a limit of 2 = %v, want ErrFull", err)
		}
		if _, err := st.AddMessage(ctx, Message{Sender: "1003"}, 2); err == nil {
			t.Fatal("a message without a recipient was stored")
		}
		got, err := st.PendingMessages(ctx, "1002", 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("PendingMessages = %+v, %v", got, err)
		}
		m := got[0]
		if m.ID != id1 || m.Sender != "1001" || m.ContentType != "application/octet-stream" || !bytes.Equal(m.Body, body) || !m.Created.Equal(now) {
			t.Fatalf("first message = %+v", m)
		}
		if len(got[1].Body) != 0 || got[1].ContentType != "text/plain" {
			t.Fatalf("second message = %+v", got[1])
		}
		if other, err := st.PendingMessages(ctx, "1001", 10); err != nil || len(other) != 0 {
			t.Fatalf("another extension's messages = %+v, %v", other, err)
		}
		if err := st.DeleteMessage(ctx, id1); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteMessage(ctx, id1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete = %v, want ErrNotFound", err)
		}
		if got, _ := st.PendingMessages(ctx, "1002", 10); len(got) != 1 {
			t.Fatalf("after delete: %d pending, want 1", len(got))
		}
	})
}
