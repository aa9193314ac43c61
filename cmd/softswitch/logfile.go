package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// Log formats (log_format, --log-format).
const (
	logFormatText = "text"
	logFormatJSON = "json"
)

// logFile is the log output named by log_file: lines are appended, and
// reopen closes the file and opens its path again, so that logrotate can
// move the file away and signal SIGUSR1 for the server to start a new one
// (the convention of nginx and others; no copytruncate, no lost lines).
type logFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openLogPath(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

func openLogFile(path string) (*logFile, error) {
	f, err := openLogPath(path)
	if err != nil {
		return nil, err
	}
	return &logFile{path: path, f: f}, nil
}

// Write appends one record (slog writes each record in one call).
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// reopen opens the path again and closes the previous file; on failure
// the previous file stays in use.
func (l *logFile) reopen() error {
	f, err := openLogPath(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	return old.Close()
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// logOutput is where serve logs: stderr, or the log file (reopened on
// SIGUSR1 until close).
type logOutput struct {
	w    io.Writer
	file *logFile // nil: stderr
	stop func()   // stops the SIGUSR1 goroutine and waits for it
}

// newLogOutput opens cfg.LogFile, or takes stderr when it is empty.
func newLogOutput(cfg Config, stderr io.Writer) (*logOutput, error) {
	if cfg.LogFile == "" {
		return &logOutput{w: stderr, stop: func() {}}, nil
	}
	lf, err := openLogFile(cfg.LogFile)
	if err != nil {
		return nil, err
	}
	return &logOutput{w: lf, file: lf, stop: func() {}}, nil
}

// handler is the slog handler of cfg.LogFormat writing to the output.
func (o *logOutput) handler(format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == logFormatJSON {
		return slog.NewJSONHandler(o.w, opts)
	}
	return slog.NewTextHandler(o.w, opts)
}

// reopenOnSignal reopens the log file on each SIGUSR1 until close. With
// no log file SIGUSR1 is still caught (its default action would end the
// server: a logrotate left over from a log file must not).
func (o *logOutput) reopenOnSignal(log *slog.Logger) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case <-sigs:
				if o.file == nil {
					log.Info("SIGUSR1: no log file to reopen (logging to stderr)")
					continue
				}
				if err := o.file.reopen(); err != nil {
					log.Error("log file not reopened: still writing to the previous one", "path", o.file.path, "error", err)
					continue
				}
				log.Info("log file reopened", "path", o.file.path, "signal", "SIGUSR1")
			}
		}
	}()
	o.stop = func() {
		signal.Stop(sigs)
		close(done)
		<-exited
	}
}

// close stops the signal handling and closes the log file.
func (o *logOutput) close() error {
	o.stop()
	if o.file == nil {
		return nil
	}
	return o.file.Close()
}

// checkLogFile: an existing log file we may append to, or a directory in
// which we may create it. Nothing is created here.
func checkLogFile(path string) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("log file %s: not a regular file (nothing was created)", path)
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("log file: %w (nothing was created)", err)
		}
		return f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("log file: %w (nothing was created)", err)
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("log file %s: directory: %w (nothing was created)", path, err)
	}
	if !di.IsDir() {
		return fmt.Errorf("log file %s: %s is not a directory (nothing was created)", path, dir)
	}
	if !writable(dir) {
		return fmt.Errorf("log file %s: cannot create it in %s: permission denied (nothing was created)", path, dir)
	}
	return nil
}
