package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/softswitch/softswitch/b2bua/store/pgtest"
	"github.com/softswitch/softswitch/deploy/kamailio/kamtest"
)

// The cluster stage (issue 19): call setup through Kamailio running
// deploy/kamailio/kamailio.cfg, first with one node behind it, then with
// two, the nodes sharing one PostgreSQL. Everything shares this machine's
// cores, so the figure is a ratio on this machine, not a capacity.

const edgeIP = "127.0.0.10"

var clusterIPs = []string{"127.0.0.11", "127.0.0.12"}

// clusterStage runs the chosen cluster measurements (call setup, then
// concurrent transcoded calls), each on a fresh cluster of one node, then
// of two, sharing one PostgreSQL server.
func clusterStage(ctx context.Context, cfg config, rep *report, log io.Writer, dir, bin string, users []user) {
	pg, err := pgtest.Start(ctx)
	if err != nil {
		rep.failf("cluster: postgres: %v", err)
		return
	}
	defer func() { _ = pg.Stop() }()
	if cfg.stages["cluster"] {
		clusterSetup(ctx, cfg, rep, log, dir, bin, pg, users)
	}
	if cfg.stages["cluster-transcode"] && ctx.Err() == nil {
		clusterTranscode(ctx, cfg, rep, log, dir, bin, pg, users)
	}
}

// clusterSetup ramps call setup through the edge to one node, then two.
func clusterSetup(ctx context.Context, cfg config, rep *report, log io.Writer, dir, bin string, pg *pgtest.Server, users []user) {
	t := rep.table("Call setup through Kamailio to nodes sharing PostgreSQL: one node vs two (sipp UAC → Kamailio → node → Kamailio → sipp UAS)",
		"system", "offered calls/s", "achieved calls/s", "ok", "failed", "setup p50 ms", "setup p99 ms", "CPU % of one core", "CPU µs per call", "machine busy %")
	rates, seconds := []int{50, 100, 200, 300, 400}, 8
	if cfg.short {
		rates, seconds = []int{10}, 3
	}
	if cfg.steps["cluster"] != nil {
		rates = cfg.steps["cluster"]
	}
	var best []float64
	eachCluster(ctx, rep, log, filepath.Join(dir, "cluster"), bin, pg, users, func(sys *system) {
		setupRamp(ctx, cfg, rep, log, dir, t, sys, rates, seconds)
		best = append(best, sys.best)
	})
	t.notes = append(t.notes, fmt.Sprintf("Each step offers its rate for %d s; each call is held 1 s. CPU covers Kamailio and the nodes (not PostgreSQL, which only sees registrations and CDRs; not sipp). Kamailio hashes calls over the nodes by Call-ID.", seconds))
	if len(best) == 2 && best[0] > 0 {
		t.notes = append(t.notes, fmt.Sprintf("Highest rate with every call done: %.0f calls/s with one node, %.0f with two: ratio %.2f (both nodes, Kamailio and sipp share this machine's cores).",
			best[0], best[1], best[1]/best[0]))
	}
}

// clusterTranscode ramps concurrent transcoded calls (the transcode
// stage's emulated browser calling a PCMU phone) through the edge to one
// node, then two: signalling through Kamailio, media straight to the node
// named in each SDP.
func clusterTranscode(ctx context.Context, cfg config, rep *report, log io.Writer, dir, bin string, pg *pgtest.Server, users []user) {
	t := clusterMediaTable(rep, cfg)
	steps := mediaSteps(cfg, "cluster-transcode", true)
	var best []int
	eachCluster(ctx, rep, log, filepath.Join(dir, "cluster-transcode"), bin, pg, users, func(sys *system) {
		best = append(best, mediaStage(ctx, cfg, rep, log, t, sys, nil, true, steps))
	})
	if len(best) == 2 && best[0] > 0 {
		t.notes = append(t.notes, fmt.Sprintf("Most concurrent calls in a step within the limits: %d with one node, %d with two: ratio %.2f (both nodes, Kamailio and the generator share this machine's cores).",
			best[0], best[1], float64(best[1])/float64(best[0])))
	}
}

// eachCluster starts a fresh cluster of one node, then of two (work
// directories dir1, dir2), and runs measure on each while it is up.
func eachCluster(ctx context.Context, rep *report, log io.Writer, dir, bin string, pg *pgtest.Server, users []user, measure func(*system)) {
	for n := 1; n <= len(clusterIPs) && ctx.Err() == nil; n++ {
		sys, stop, err := startCluster(ctx, bin, dir+strconv.Itoa(n), pg, users, n)
		if err != nil {
			rep.failf("cluster of %d: %v", n, err)
			return
		}
		logf(log, "%s: %s up", filepath.Base(dir), sys.name)
		measure(sys)
		stop()
	}
}

// startCluster starts n nodes on a fresh database with the users, and
// Kamailio in front of them; the system's CPU is theirs together.
func startCluster(ctx context.Context, bin, dir string, pg *pgtest.Server, users []user, n int) (*system, func(), error) {
	dsn, err := pg.NewDatabase(ctx, "cluster")
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if err := addUsers(ctx, bin, filepath.Join(dir, "init"), dsn, users); err != nil {
		return nil, nil, err
	}
	var nodes []*softswitch
	stop := func() {
		for _, s := range nodes {
			s.stop()
		}
	}
	var addrs []string
	for i := 0; i < n; i++ {
		s, err := startNode(ctx, bin, filepath.Join(dir, "n"+strconv.Itoa(i+1)), false,
			&node{name: "n" + strconv.Itoa(i+1), ip: clusterIPs[i], dsn: dsn, proxy: edgeIP})
		if err != nil {
			stop()
			return nil, nil, err
		}
		nodes = append(nodes, s)
		addrs = append(addrs, s.sip)
	}
	udp, err := freePortOn(edgeIP)
	if err != nil {
		stop()
		return nil, nil, err
	}
	wss, err := freePortOn(edgeIP) // a UDP port free now; TCP on it is very likely free too
	if err != nil {
		stop()
		return nil, nil, err
	}
	kdir := filepath.Join(dir, "kamailio")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		stop()
		return nil, nil, err
	}
	n1 := filepath.Join(dir, "n1", "data")
	edge, err := kamtest.Start(ctx, kamtest.Config{CfgFile: kamailioCfgPath(), Dir: kdir, IP: edgeIP, UDPPort: udp, WSSPort: wss,
		Nodes: addrs, Cert: filepath.Join(n1, "tls-cert.pem"), Key: filepath.Join(n1, "tls-key.pem"), PikeDensity: 60000})
	if err != nil {
		stop()
		return nil, nil, err
	}
	time.Sleep(1500 * time.Millisecond) // the dispatcher's first probes
	tree := procTree{root: edge.Pid()}
	parts := []part{{name: "kamailio", ip: edgeIP, tree: procTree{root: edge.Pid()}}}
	for i, s := range nodes {
		tree.more = append(tree.more, s.cmd.Process.Pid)
		parts = append(parts, part{name: "n" + strconv.Itoa(i+1), ip: clusterIPs[i], tree: s.tree()})
	}
	name := fmt.Sprintf("kamailio + %d node", n)
	if n > 1 {
		name += "s"
	}
	return &system{name: name, sip: edge.UDP, tree: tree, users: users, parts: parts}, func() {
		edge.Stop()
		_ = os.WriteFile(filepath.Join(kdir, "kamailio.log"), []byte(edge.Log()), 0o644) // kept with -keep
		stop()
	}, nil
}

// kamailioCfgPath is deploy/kamailio/kamailio.cfg, found from the working
// directory (the repository root for make bench, bench/sysbench for go test).
func kamailioCfgPath() string {
	for _, p := range []string{"deploy/kamailio/kamailio.cfg", "../../deploy/kamailio/kamailio.cfg"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "deploy/kamailio/kamailio.cfg"
}

// clusterMediaTable adds the table of the cluster-transcode stage.
func clusterMediaTable(rep *report, cfg config) *table {
	t := rep.table("Concurrent transcoded calls through Kamailio to nodes sharing PostgreSQL: one node vs two (Opus/WebRTC ↔ PCMU, signalling via Kamailio, media straight to the node)",
		"system", "calls", "setup failed", "calls n1 / n2", "CPU % n1 / n2", "CPU % per call n1 / n2", "Kamailio CPU %",
		"loss A→B %", "loss B→A %", "latency A→B p50 / p99 ms", "latency B→A p50 / p99 ms", "generator CPU %", "machine busy %", "late ticks")
	settle, window := mediaTimes(cfg)
	t.notes = append(t.notes, fmt.Sprintf("The transcode stage's calls (see its notes: the same emulated browser and phone, the same limits: "+
		"> 1 %% loss, p99 > 250 ms, > 1 %% failed setups, or the generator late on > 2 %% of its ticks), with both parties registered and "+
		"calling through Kamailio running deploy/kamailio/kamailio.cfg, which hashes calls over the nodes by Call-ID. "+
		"Each step adds calls one at a time, waits %v, then measures for %v. A node's calls are those whose answer named its media address "+
		"(the browser's ICE candidate); the phone's leg of each call was offered the same node's address, checked per call. "+
		"CPU per call of a node = its CPU / its calls. PostgreSQL and the generator are not in the nodes' CPU.", settle, window))
	return t
}

// clusterMediaRow adds a step of the cluster-transcode stage to t.
func clusterMediaRow(t *table, sys *system, l *mediaLoad, r stepResult) {
	var calls, cpu, perCall []string
	kamailio := "—"
	l.mu.Lock()
	byIP := maps.Clone(l.byIP)
	l.mu.Unlock()
	for i, p := range sys.parts {
		if p.name == "kamailio" {
			kamailio = f0(r.parts[i])
			continue
		}
		n := byIP[p.ip]
		calls = append(calls, itoa(n))
		cpu = append(cpu, f0(r.parts[i]))
		perCall = append(perCall, f2(r.parts[i]/float64(max(1, n))))
	}
	t.add(sys.name, itoa(r.calls), itoa(r.setupFailed), strings.Join(calls, " / "), strings.Join(cpu, " / "), strings.Join(perCall, " / "), kamailio,
		f2(r.lossAB), f2(r.lossBA), r.latency(r.latAB), r.latency(r.latBA), f0(r.gpct), f0(r.busy), itoa(int(r.late)))
}
