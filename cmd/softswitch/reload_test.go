package main

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/softswitch/softswitch/b2bua/trunk"
)

func TestConfigPathOf(t *testing.T) {
	for args, want := range map[string]string{
		"--config a.yaml --sip x":  "a.yaml",
		"-config b.yaml":           "b.yaml",
		"--config=c.yaml --data d": "c.yaml",
		"--data d":                 "",
		"--config":                 "",
	} {
		if got := configPathOf(strings.Fields(args)); got != want {
			t.Errorf("configPathOf(%q) = %q, want %q", args, got, want)
		}
	}
}

func TestRestartKeysIgnoresTrunks(t *testing.T) {
	a := defaultConfig()
	b := defaultConfig()
	b.SIP = "127.0.0.1:5070"
	b.Trunks = []trunk.Config{{Name: "x", Host: "h"}}
	b.AnonymousDestinations = []string{"1"}
	if got := restartKeys(a, b); !slices.Equal(got, []string{"sip", "anonymous_destinations"}) {
		t.Errorf("restartKeys = %v", got)
	}
}

func TestReloadAppliesTrunksAndRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "softswitch.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("trunks:\n  - name: a\n    host: 192.0.2.1\n    options_interval: -1\n")
	args := []string{"--config", path, "--data", dir}
	cfg, err := parseServeFlags(args)
	if err != nil {
		t.Fatal(err)
	}
	set := trunk.NewSet(trunk.Options{})
	t.Cleanup(set.Close)
	if _, err := set.Apply(cfg.Trunks); err != nil {
		t.Fatal(err)
	}
	r := newReloader(args, cfg, set, slog.New(slog.DiscardHandler))
	write("sip: 127.0.0.1:5999\ntrunks:\n  - name: a\n    host: 192.0.2.1\n    options_interval: -1\n  - name: b\n    host: 192.0.2.2\n    options_interval: -1\n")
	out, err := r.reload("test")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 added", "added: b", "sip changed: it takes effect after a restart"} {
		if !strings.Contains(out, want) {
			t.Errorf("reload output lacks %q:\n%s", want, out)
		}
	}
	write("trunks:\n  - name: a\n    host: 192.0.2.1\n    transport: sctp\n")
	if _, err := r.reload("test"); err == nil || !strings.Contains(err.Error(), "sctp") {
		t.Fatalf("bad file: err = %v", err)
	}
	if n := len(set.Status()); n != 2 {
		t.Errorf("a refused reload left %d trunks, want 2", n)
	}
}

func TestControlSocket(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	c, err := startControl(dir, map[string]controlHandler{
		"hello": func([]string) (string, error) { return "world\n", nil },
		"fail":  func([]string) (string, error) { return "", os.ErrPermission },
	}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := controlCall(dir, "hello"); err != nil || out != "world\n" {
		t.Errorf("hello = %q, %v", out, err)
	}
	if _, err := controlCall(dir, "fail"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("fail: err = %v", err)
	}
	if _, err := controlCall(dir, "nope"); err == nil || !strings.Contains(err.Error(), "unknown control command") {
		t.Errorf("nope: err = %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, controlSocket)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v", fi, err)
	}
	if _, err := startControl(dir, nil, nil, log); err == nil || !strings.Contains(err.Error(), "another softswitch") {
		t.Errorf("second server on the same data directory: err = %v", err)
	}
	c.close()
	if _, err := controlCall(dir, "hello"); err == nil || !strings.Contains(err.Error(), "no softswitch running") {
		t.Errorf("after close: err = %v", err)
	}
	// A socket left by a server that died is replaced.
	l, err := net.Listen("unix", filepath.Join(dir, controlSocket))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	c, err = startControl(dir, map[string]controlHandler{"hello": func([]string) (string, error) { return "again", nil }}, nil, log)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer c.close()
	if out, err := controlCall(dir, "hello"); err != nil || out != "again" {
		t.Errorf("hello after restart = %q, %v", out, err)
	}
}
