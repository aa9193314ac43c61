package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/softswitch/softswitch/b2bua/callstory"
)

// A call-history.json left by an older version is moved into the
// database once, then removed; a broken one is left where it is, named in
// the log.
func TestImportLegacyHistory(t *testing.T) {
	data := t.TempDir()
	st, err := openStore(t.Context(), data, DatabaseConfig{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs strings.Builder
	rec := callstory.NewRecorder(10)
	o := &observability{stories: rec, keeper: callstory.NewKeeper(rec, st, slog.New(slog.DiscardHandler)),
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	path := filepath.Join(data, legacyHistoryFile)
	old := `{"version":1,"stories":[{"CallID":"old-a","Legs":["old-a","old-b"],"Entries":[{"Leg":"A","In":true,"FirstLine":"INVITE sip:2000@h SIP/2.0","Method":"INVITE"}]}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	o.importHistory(t.Context(), data)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file is still there: %v", err)
	}
	again := callstory.NewKeeper(callstory.NewRecorder(10), st, slog.New(slog.DiscardHandler)) // a restart
	story, err := again.Story(t.Context(), "old-b")
	if err != nil || story.CallID != "old-a" || len(story.Entries) != 1 {
		t.Fatalf("imported story %+v, %v", story, err)
	}
	if !strings.Contains(logs.String(), `msg="call history file imported into the database"`) || !strings.Contains(logs.String(), "calls=1") {
		t.Fatalf("log: %s", logs.String())
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	o.importHistory(t.Context(), data)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a broken file was removed: %v", err)
	}
	if !strings.Contains(logs.String(), `msg="call history file not imported" file=`+path) {
		t.Fatalf("log: %s", logs.String())
	}
}
