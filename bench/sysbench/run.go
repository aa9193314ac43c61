package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// run runs the chosen stages and returns the report; err is set when a
// stage failed as a test would (errors, lost calls), never for timing.
func run(ctx context.Context, cfg config, log io.Writer) (*report, error) {
	rep := &report{started: time.Now(), command: strings.Join(os.Args, " ")}
	dir, err := os.MkdirTemp("", "sysbench-")
	if err != nil {
		return rep, err
	}
	if cfg.keep {
		logf(log, "keeping the work directory %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return rep, err
	}
	nUsers := cfg.users
	if cfg.short {
		nUsers = 20
	}
	users := makeUsers(1000, nUsers)
	logf(log, "creating %d users", len(users))
	ssDir := filepath.Join(dir, "softswitch")
	if err := prepareSoftswitch(ctx, bin, ssDir, users); err != nil {
		return rep, err
	}
	// Each stage gets a fresh softswitch on the same data, so an overload
	// at the end of one stage (queues, the auth guard) does not bleed into
	// the next.
	fresh := func() (*system, func(), error) {
		ss, err := startSoftswitch(ctx, bin, ssDir, cfg.profiles != "")
		if err != nil {
			return nil, nil, err
		}
		stop := func() {
			select {
			case <-ss.done:
				rep.failf("softswitch exited during the run:\n%s", ss.stderr)
			default:
			}
			ss.stop()
		}
		return &system{name: "softswitch", sip: ss.sip, tree: ss.tree(), users: users, pprof: ss.pprof}, stop, nil
	}
	var ref *system
	if cfg.reference && !cfg.short && (cfg.stages["register"] || cfg.stages["setup"]) {
		k, err := startKamailio(ctx, filepath.Join(dir, "kamailio"), 2)
		if err != nil {
			rep.failf("kamailio reference: %v", err)
		} else {
			defer k.stop()
			kusers := make([]user, len(users))
			for i, u := range users {
				kusers[i] = user{ext: u.ext, password: kamailioPassword}
			}
			ref = &system{name: "kamailio", sip: k.sip, tree: k.tree(), users: kusers}
		}
	}
	tables := map[string]*table{}
	for _, stage := range []string{"register", "setup", "relay", "transcode", "prompt", "conference"} {
		if !cfg.stages[stage] || ctx.Err() != nil {
			continue
		}
		if stage == "prompt" {
			promptStage(ctx, cfg, rep, log, dir, fresh)
			continue
		}
		sys, stop, err := fresh()
		if err != nil {
			return rep, err
		}
		switch stage {
		case "register":
			registerStage(ctx, cfg, rep, log, dir, sys, ref)
		case "setup":
			setupStage(ctx, cfg, rep, log, dir, sys, ref)
		case "conference":
			confStage(ctx, cfg, rep, log, sys)
		case "relay", "transcode":
			tables[stage] = mediaTable(rep, cfg, stage == "transcode")
			mediaStage(ctx, cfg, rep, log, tables[stage], sys, nil, stage == "transcode", mediaSteps(cfg, stage, stage == "transcode"))
		}
		stop()
	}
	if (cfg.stages["cluster"] || cfg.stages["cluster-transcode"]) && ctx.Err() == nil {
		clusterStage(ctx, cfg, rep, log, dir, bin, users)
	}
	if cfg.reference && !cfg.short && (cfg.stages["relay"] || cfg.stages["transcode"]) {
		rtpe, err := startRTPengine(ctx, filepath.Join(dir, "rtpengine"))
		if err != nil {
			rep.failf("rtpengine reference: %v", err)
		} else {
			for _, stage := range []string{"relay", "transcode"} {
				if t := tables[stage]; t != nil && ctx.Err() == nil {
					mediaStage(ctx, cfg, rep, log, t, nil, rtpe, stage == "transcode", mediaSteps(cfg, stage, stage == "transcode"))
				}
			}
			rtpe.stop()
		}
	}
	if len(rep.errors) > 0 {
		return rep, fmt.Errorf("%d error(s)", len(rep.errors))
	}
	return rep, nil
}

// system is a SIP server under test.
type system struct {
	name  string
	sip   string
	pprof string // the softswitch's profile server, host:port
	tree  procTree
	users []user
	best  float64 // highest rate achieved by a step with every call done (sippStep)
	parts []part  // a cluster's processes, measured each on its own (media stages)
}

// part is one process of a cluster: the proxy or a node.
type part struct {
	name, ip string
	tree     procTree
}

// registerStage: REGISTER with digest auth, ramping the rate.
func registerStage(ctx context.Context, cfg config, rep *report, log io.Writer, dir string, systems ...*system) {
	t := rep.table("REGISTER with digest auth (sipp, UDP, 401 + REGISTER + 200 per registration)",
		"system", "offered /s", "achieved /s", "ok", "failed", "p50 ms", "p99 ms", "CPU % of one core", "CPU µs per REGISTER", "machine busy %")
	rates, seconds := []int{500, 1000, 2000, 3000, 4000}, 6
	if cfg.short {
		rates, seconds = []int{50}, 2
	}
	if cfg.steps["register"] != nil {
		rates = cfg.steps["register"]
	}
	for _, s := range systems {
		if s == nil {
			continue
		}
		port, err := freePort()
		if err != nil {
			rep.failf("register: %v", err)
			return
		}
		for i, rate := range rates {
			if ctx.Err() != nil {
				return
			}
			job := sippJob{scenario: "register.xml", target: s.sip, users: loadUsers(s.users), rate: rate,
				calls: rate * seconds, localPort: port, timeout: time.Duration(seconds*3+10) * time.Second}
			// The CPU profile covers the step (the softswitch only: Kamailio has no pprof).
			prof := profileWindow(ctx, cfg, log, true, s, fmt.Sprintf("register-%d", rate), time.Duration(seconds)*time.Second)
			ok := sippStep(ctx, "register", job, filepath.Join(dir, fmt.Sprintf("register-%s-%d", s.name, i)), s, rate, cfg, t, rep, log)
			prof()
			if !ok {
				break // the ceiling is found
			}
		}
	}
	t.notes = append(t.notes, fmt.Sprintf("Each step offers its rate for %d s (sipp -r, -m rate×%d) over %d users (all but the setup stage's callee); the ramp stops at the first step with a failure. Latency is first REGISTER to 200 (two round trips), in sipp's whole milliseconds. machine busy is all non-idle CPU time of the machine in %% of one core (200 = both cores busy), other agents' work included.", seconds, seconds, len(loadUsers(systems[0].users))))
}

// loadUsers are the users the register stage registers: all but the last,
// the setup stage's callee. Its binding from the register stage (expires
// 3600, its sipp gone) made every call a two-way fork with a dead branch
// that rang until timer B (issue 20).
func loadUsers(users []user) []user {
	if len(users) > 1 {
		return users[:len(users)-1]
	}
	return users
}

// setupStage: call setup through the server, ramping the rate.
func setupStage(ctx context.Context, cfg config, rep *report, log io.Writer, dir string, systems ...*system) {
	t := rep.table("Call setup (sipp UAC: INVITE, 407, INVITE with auth, 200, ACK, 1 s, BYE → server → sipp UAS)",
		"system", "offered calls/s", "achieved calls/s", "ok", "failed", "setup p50 ms", "setup p99 ms", "CPU % of one core", "CPU µs per call", "machine busy %")
	rates, seconds := []int{50, 100, 200, 300, 400}, 8
	if cfg.short {
		rates, seconds = []int{10}, 3
	}
	if cfg.steps["setup"] != nil {
		rates = cfg.steps["setup"]
	}
	for _, s := range systems {
		if s != nil {
			setupRamp(ctx, cfg, rep, log, dir, t, s, rates, seconds)
		}
	}
	t.notes = append(t.notes, fmt.Sprintf("Each step offers its rate for %d s; each call is held 1 s, so concurrency ≈ rate. achieved = ok calls / sipp's elapsed time (includes the 1 s hold of the last calls). CPU covers the server process only (sipp runs on the same 2 cores).", seconds))
}

// sippStep runs one sipp step of a ramp against s, adds its table row and
// reports whether the ramp goes on (no error, every call done). In short
// mode a failure of the softswitch is an error of the run.
func sippStep(ctx context.Context, stage string, job sippJob, dir string, s *system, rate int, cfg config, t *table, rep *report, log io.Writer) bool {
	m := startCPU(s.tree)
	res := job.run(ctx, dir)
	used, pct := m.stop()
	busy := m.machine()
	logf(log, "%s %s offered %d/s: ok %d failed %d achieved %.0f/s cpu %.0f%%", stage, s.name, rate, res.ok, res.failed, res.rate(), pct)
	perOp := 0.0
	if res.ok > 0 {
		perOp = float64(used.Microseconds()) / float64(res.ok)
	}
	t.add(s.name, itoa(rate), f0(res.rate()), itoa(res.ok), itoa(res.failed),
		f1(percentile(res.rtt, 50)), f1(percentile(res.rtt, 99)), f0(pct), f0(perOp), f0(busy))
	if res.err != nil {
		rep.failf("%s %s at %d/s: %v\n%s", stage, s.name, rate, res.err, res.tail)
		return false
	}
	if res.failed > 0 || res.ok < job.calls {
		if cfg.short && s.name == "softswitch" {
			rep.failf("%s %s at %d/s: %d failed, %d of %d ok\n%s", stage, s.name, rate, res.failed, res.ok, job.calls, res.tail)
		}
		return false
	}
	s.best = max(s.best, res.rate())
	return true
}

// setupRamp registers an answering sipp (the last of s's users) and ramps
// call setup from the others through s, a row of t per step.
func setupRamp(ctx context.Context, cfg config, rep *report, log io.Writer, dir string, t *table, s *system, rates []int, seconds int) {
	callee := s.users[len(s.users)-1]
	port, err := freePort()
	if err != nil {
		rep.failf("setup: %v", err)
		return
	}
	reg := sippJob{scenario: "register.xml", target: s.sip, users: []user{callee}, rate: 1, calls: 1, localPort: port, timeout: 10 * time.Second}
	if res := reg.run(ctx, filepath.Join(dir, "uas-register-"+s.name)); res.ok != 1 {
		rep.failf("setup %s: the answering phone did not register: %v\n%s", s.name, res.err, res.tail)
		return
	}
	uas, err := startUAS(filepath.Join(dir, "uas-"+s.name), port, time.Duration(len(rates)*(seconds*3+20))*time.Second)
	if err != nil {
		rep.failf("setup %s: %v", s.name, err)
		return
	}
	defer uas.stop()
	time.Sleep(300 * time.Millisecond) // sipp binds its port
	for i, rate := range rates {
		if ctx.Err() != nil {
			break
		}
		job := sippJob{scenario: "call_uac.xml", target: s.sip, users: s.users[:len(s.users)-1], service: callee.ext,
			rate: rate, calls: rate * seconds, pause: time.Second, timeout: time.Duration(seconds*3+15) * time.Second}
		prof := profileWindow(ctx, cfg, log, true, s, fmt.Sprintf("setup-%d", rate), time.Duration(seconds)*time.Second)
		ok := sippStep(ctx, "setup", job, filepath.Join(dir, fmt.Sprintf("setup-%s-%d", s.name, i)), s, rate, cfg, t, rep, log)
		prof()
		if !ok {
			break
		}
		time.Sleep(1500 * time.Millisecond) // let the last calls end
	}
}
