package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
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

// clusterStage ramps call setup through the edge to one node, then two.
func clusterStage(ctx context.Context, cfg config, rep *report, log io.Writer, dir, bin string, users []user) {
	t := rep.table("Call setup through Kamailio to nodes sharing PostgreSQL: one node vs two (sipp UAC → Kamailio → node → Kamailio → sipp UAS)",
		"system", "offered calls/s", "achieved calls/s", "ok", "failed", "setup p50 ms", "setup p99 ms", "CPU % of one core", "CPU µs per call", "machine busy %")
	rates, seconds := []int{50, 100, 200, 300, 400}, 8
	if cfg.short {
		rates, seconds = []int{10}, 3
	}
	if cfg.steps["cluster"] != nil {
		rates = cfg.steps["cluster"]
	}
	pg, err := pgtest.Start(ctx)
	if err != nil {
		rep.failf("cluster: postgres: %v", err)
		return
	}
	defer func() { _ = pg.Stop() }()
	var best []float64
	for n := 1; n <= len(clusterIPs) && ctx.Err() == nil; n++ {
		sys, stop, err := startCluster(ctx, bin, filepath.Join(dir, "cluster"+strconv.Itoa(n)), pg, users, n)
		if err != nil {
			rep.failf("cluster of %d: %v", n, err)
			return
		}
		logf(log, "cluster: %s up", sys.name)
		setupRamp(ctx, cfg, rep, log, dir, t, sys, rates, seconds)
		stop()
		best = append(best, sys.best)
	}
	t.notes = append(t.notes, fmt.Sprintf("Each step offers its rate for %d s; each call is held 1 s. CPU covers Kamailio and the nodes (not PostgreSQL, which only sees registrations and CDRs; not sipp). Kamailio hashes calls over the nodes by Call-ID.", seconds))
	if len(best) == 2 && best[0] > 0 {
		t.notes = append(t.notes, fmt.Sprintf("Highest rate with every call done: %.0f calls/s with one node, %.0f with two: ratio %.2f (both nodes, Kamailio and sipp share this machine's cores).",
			best[0], best[1], best[1]/best[0]))
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
	for _, s := range nodes {
		tree.more = append(tree.more, s.cmd.Process.Pid)
	}
	name := fmt.Sprintf("kamailio + %d node", n)
	if n > 1 {
		name += "s"
	}
	return &system{name: name, sip: edge.UDP, tree: tree, users: users}, func() {
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
