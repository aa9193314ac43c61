package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profileWindow starts fetching the softswitch's CPU profile over window
// (when -server-profiles is set and the step runs through the
// softswitch), and returns a func that waits for it and then saves a heap
// profile and the goroutines: DIR/NAME-cpu.pprof and DIR/NAME-heap.pprof,
// for `go tool pprof`, DIR/NAME-goroutine.txt (counts by stack) and
// DIR/NAME-memstats.txt (the heap as text, runtime.MemStats at its end:
// stacks in use, GC figures).
func profileWindow(ctx context.Context, cfg config, log io.Writer, ours bool, sys *system, name string, window time.Duration) func() {
	if cfg.profiles == "" || !ours || sys == nil || sys.pprof == "" {
		return func() {}
	}
	base := filepath.Join(cfg.profiles, name)
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", sys.pprof, int(window/time.Second))
		if err := fetch(ctx, url, base+"-cpu.pprof", window+10*time.Second); err != nil {
			logf(log, "cpu profile %s: %v", name, err)
		}
	}()
	return func() {
		<-done
		if err := fetch(ctx, "http://"+sys.pprof+"/debug/pprof/heap?gc=1", base+"-heap.pprof", 10*time.Second); err != nil {
			logf(log, "heap profile %s: %v", name, err)
		}
		if err := fetch(ctx, "http://"+sys.pprof+"/debug/pprof/goroutine?debug=1", base+"-goroutine.txt", 10*time.Second); err != nil {
			logf(log, "goroutine profile %s: %v", name, err)
		}
		if err := fetch(ctx, "http://"+sys.pprof+"/debug/pprof/heap?debug=1&gc=1", base+"-memstats.txt", 10*time.Second); err != nil {
			logf(log, "memstats %s: %v", name, err)
		}
	}
}

// fetch saves what url returns into file.
func fetch(ctx context.Context, url, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
