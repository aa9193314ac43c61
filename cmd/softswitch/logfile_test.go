package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A JSON log goes to the file; after the file is moved away, SIGUSR1
// makes the next lines go to a new file at the same path.
func TestLogFileReopenOnSIGUSR1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ss.log")
	out, err := newLogOutput(Config{LogFile: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(out.handler(logFormatJSON, slog.LevelInfo))
	out.reopenOnSignal(log)
	defer out.close()
	log.Info("before rotation", "n", 1)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	log.Info("still to the moved file", "n", 2)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path) // not there until the reopen
		if strings.Contains(string(b), "log file reopened") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reopen within 5s; new file %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	log.Info("after rotation", "n", 3)
	old, cur := jsonLines(t, readFile(t, path+".1")), jsonLines(t, readFile(t, path))
	if len(old) != 2 || old[0]["msg"] != "before rotation" || old[1]["msg"] != "still to the moved file" {
		t.Errorf("rotated file: %v", old)
	}
	if len(cur) != 2 || cur[1]["msg"] != "after rotation" || cur[1]["n"] != 3.0 {
		t.Errorf("new file: %v", cur)
	}
}

func TestLogFormatAndFileConfig(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "ss.yaml", "log_format: json\nlog_file: logs/ss.log\n")
	cfg, err := parseServeFlags([]string{"--config", conf})
	if err != nil || cfg.LogFormat != logFormatJSON || cfg.LogFile != filepath.Join(dir, "logs", "ss.log") {
		t.Fatalf("config: %+v %v", cfg, err)
	}
	cfg, err = parseServeFlags([]string{"--config", conf, "--log-format", "text", "--log-file", "x.log"})
	if err != nil || cfg.LogFormat != logFormatText || cfg.LogFile != "x.log" {
		t.Fatalf("flags over the file: %+v %v", cfg, err)
	}
	if _, err := parseServeFlags([]string{"--log-format", "xml"}); err == nil || !strings.Contains(err.Error(), "log_format") {
		t.Fatalf("log-format xml: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// Logging to stderr, SIGUSR1 (a logrotate left over from a log file) is
// logged and ignored, not the end of the server.
func TestSIGUSR1WithoutLogFile(t *testing.T) {
	var buf syncBuffer
	out, err := newLogOutput(Config{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	out.reopenOnSignal(slog.New(out.handler(logFormatText, slog.LevelInfo)))
	defer out.close()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "no log file to reopen") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGUSR1 not logged: %q", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
