package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The packaged configuration is valid, creates no demo users, keeps its
// state and log where softswitch.service's StateDirectory= and
// LogsDirectory= are, and listens on no port below 1024, since the unit
// grants no CAP_NET_BIND_SERVICE.
func TestPackagedConfig(t *testing.T) {
	cfg, err := parseServeFlags([]string{"--config", "../../packaging/softswitch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DemoUsers || cfg.Data != "/var/lib/softswitch" || cfg.LogFile != "/var/log/softswitch/softswitch.log" ||
		cfg.Dialplan != filepath.Join("..", "..", "packaging", "dialplan.lua") || cfg.Metrics == "" {
		t.Fatalf("packaged config: %+v", cfg)
	}
	unit, err := os.ReadFile("../../packaging/softswitch.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"User=softswitch", "StateDirectory=softswitch", "LogsDirectory=softswitch",
		"ConfigurationDirectory=softswitch", "ExecStart=/usr/bin/softswitch serve --config /etc/softswitch/softswitch.yaml"} {
		if !strings.Contains(string(unit), "\n"+line+"\n") {
			t.Errorf("softswitch.service lacks %s", line)
		}
	}
	if strings.Contains(string(unit), "\nAmbientCapabilities=") {
		return // low ports allowed
	}
	for _, addr := range []string{cfg.SIP, cfg.SIPTLS, cfg.HTTPS, cfg.WS, cfg.Metrics} {
		if addr == "" {
			continue
		}
		_, port, _ := net.SplitHostPort(addr)
		if p, _ := strconv.Atoi(port); p > 0 && p < 1024 {
			t.Errorf("packaged config listens on %s, below 1024, and the unit grants no CAP_NET_BIND_SERVICE", addr)
		}
	}
}

// configs/production.yaml, the documented example, is valid as written
// (its certificate and dialplan files are the operator's to provide).
func TestProductionExampleConfig(t *testing.T) {
	cfg, err := parseServeFlags([]string{"--config", "../../configs/production.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DemoUsers || cfg.LogFormat != logFormatJSON || cfg.LogFile == "" {
		t.Fatalf("production example: %+v", cfg)
	}
}
