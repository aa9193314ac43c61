package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"time"
)

// promptStage measures the memory of calls hearing the test audio (issue
// 21): sipp places the calls (PCMU, no media sent; each held 4 s, then
// BYE) to the test number, and, as the baseline of what a call's endpoint
// takes by itself, to a number that answers and stays silent. Each runs
// on a fresh softswitch: RSS idle, at its peak, and a while after the
// last call ended.
func promptStage(ctx context.Context, cfg config, rep *report, log io.Writer, dir string, fresh func() (*system, func(), error)) {
	calls, rate, hold, after := 200, 50, 4*time.Second, 45*time.Second
	if cfg.short {
		calls, rate, after = 20, 10, 5*time.Second
	}
	if st := cfg.steps["prompt"]; len(st) > 0 {
		calls = st[0]
	}
	t := rep.table(fmt.Sprintf("Memory of calls hearing a prompt (sipp UAC, PCMU, %d calls at %d/s held %v each; RSS %v after the last call)", calls, rate, hold, after),
		"number", "plays", "ok", "failed", "RSS idle MiB", "RSS peak MiB", "peak − idle KiB per call", "RSS after MiB", "after − idle MiB")
	growth := map[string]float64{}
	for _, n := range []struct{ number, plays string }{{"07010002001", "nothing (endpoint only)"}, {"07010002000", "test-audio"}} {
		if ctx.Err() != nil {
			return
		}
		sys, stop, err := fresh()
		if err != nil {
			rep.failf("prompt: %v", err)
			return
		}
		time.Sleep(2 * time.Second) // start-up settles
		idle := sys.tree.rssKB()
		var peak atomic.Int64
		peak.Store(idle)
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					if r := sys.tree.rssKB(); r > peak.Load() {
						peak.Store(r)
					}
				}
			}
		}()
		job := sippJob{scenario: "call_uac.xml", target: sys.sip, users: sys.users, service: n.number,
			rate: rate, calls: calls, pause: hold, timeout: time.Duration(calls/rate)*time.Second + hold + 60*time.Second}
		res := job.run(ctx, filepath.Join(dir, "prompt-"+n.number))
		close(done)
		<-sampled
		if res.err != nil || res.failed > 0 || res.ok < calls {
			rep.failf("prompt %s: %d ok, %d failed: %v\n%s", n.number, res.ok, res.failed, res.err, res.tail)
		}
		select {
		case <-time.After(after):
		case <-ctx.Done():
		}
		rest := sys.tree.rssKB()
		if cfg.profiles != "" && sys.pprof != "" {
			// debug=1: the live heap by site, and the runtime's MemStats.
			url := "http://" + sys.pprof + "/debug/pprof/heap?debug=1"
			if err := fetch(ctx, url, filepath.Join(cfg.profiles, "prompt-"+n.number+"-after-heap.txt"), 10*time.Second); err != nil {
				logf(log, "heap profile: %v", err)
			}
		}
		stop()
		per := float64(peak.Load()-idle) / float64(calls)
		growth[n.number] = per
		logf(log, "prompt %s: %d ok rss idle %d peak %d after %d KiB", n.number, res.ok, idle, peak.Load(), rest)
		t.add(n.number, n.plays, itoa(res.ok), itoa(res.failed), f2(float64(idle)/1024), f2(float64(peak.Load())/1024), f0(per),
			f2(float64(rest)/1024), f2(float64(rest-idle)/1024))
	}
	t.notes = append(t.notes, fmt.Sprintf("A call hearing the test audio took %.0f KiB beyond a silent call's (its endpoint's own). "+
		"RSS is the server's VmRSS, sampled every 100 ms; each number runs on a fresh softswitch.",
		growth["07010002000"]-growth["07010002001"]))
}
