package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/sipserver"
)

// connections: and server_header: reach the configuration; bad values are
// refused; the shipped file documents the defaults; the connection
// ceiling defaults to half the (raised) open-file limit.
func TestConnectionsAndServerHeaderConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	write := func(body string) string {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := parseServeFlags([]string{"--config", write("server_header: PBX\nconnections: {max: 500, per_source: 7, idle_timeout: 5s, handshake_timeout: 2s}\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := sipserver.ConnLimits{Max: 500, PerSource: 7, IdleTimeout: 5 * time.Second, HandshakeTimeout: 2 * time.Second}
	if cfg.ServerHeader != "PBX" || cfg.Connections != want {
		t.Fatalf("config %q %+v", cfg.ServerHeader, cfg.Connections)
	}
	for _, bad := range []string{"connections: {per_source: -1}\n", "server_header: \"a\\r\\nX-Injected: 1\"\n"} {
		if _, err := parseServeFlags([]string{"--config", write(bad)}); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	shipped, err := parseServeFlags([]string{"--config", "../../configs/softswitch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if c := shipped.Connections; shipped.ServerHeader != "" || c.Max != 0 || c.PerSource != sipserver.DefaultConnsPerSource ||
		c.IdleTimeout != sipserver.DefaultIdleTimeout || c.HandshakeTimeout != sipserver.DefaultHandshakeTimeout {
		t.Fatalf("shipped config does not document the defaults: %q %+v", shipped.ServerHeader, c)
	}
	var logs strings.Builder
	got := connLimits(sipserver.ConnLimits{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "per_source=100 idle_timeout=30s handshake_timeout=10s") {
		t.Errorf("the log line does not show the defaults in force:\n%s", logs.String())
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur != lim.Max || got.Max != int(lim.Cur/2) {
		t.Fatalf("nofile %d/%d, ceiling %d: want the soft limit raised to the hard one and the ceiling at half", lim.Cur, lim.Max, got.Max)
	}
}
