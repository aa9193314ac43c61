package dialplan_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
)

// shippedScript is the default dialplan, relative to this package.
const shippedScript = "../scripts/dialplan.lua"

// writeScript writes src to a fresh dialplan.lua and returns its path.
func writeScript(t testing.TB, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dialplan.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rewriteScript replaces the script and moves its mtime forward, so that
// the change is seen even on coarse file system clocks.
func rewriteScript(t testing.TB, path, src string, step int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Now().Add(time.Duration(step) * time.Second)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// onCall wraps body (which starts on line 2) in function on_call(call).
func onCall(body string) string {
	return "function on_call(call)\n" + body + "\nend\n"
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newLogger returns a debug-level text logger writing to the returned
// buffer.
func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEngine writes src and builds an engine for it with cfg's limits.
func newEngine(t testing.TB, src string, cfg dialplan.Config, log *slog.Logger) (*dialplan.Engine, string) {
	t.Helper()
	cfg.Path = writeScript(t, src)
	if log == nil {
		log = discard()
	}
	e, err := dialplan.New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e, cfg.Path
}
