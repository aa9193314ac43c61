package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Relative paths in a config file resolve against its directory; absolute
// ones, prompt names and flags are kept.
func TestConfigPathsRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "etc", "ss.yaml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o750); err != nil {
		t.Fatal(err)
	}
	body := "data: state\ndialplan: ../plan.lua\ntls_cert: /abs/cert.pem\ntls_key: key.pem\nmoh: hold.wav\nprompts:\n  dir: sounds\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseServeFlags([]string{"--config", conf})
	if err != nil {
		t.Fatal(err)
	}
	etc := filepath.Dir(conf)
	if cfg.Data != filepath.Join(etc, "state") || cfg.Dialplan != filepath.Join(dir, "plan.lua") || cfg.TLSCert != "/abs/cert.pem" ||
		cfg.TLSKey != filepath.Join(etc, "key.pem") || cfg.MOH != filepath.Join(etc, "hold.wav") || cfg.Prompts.Dir != filepath.Join(etc, "sounds") {
		t.Fatalf("resolved %+v", cfg)
	}
	if err := os.WriteFile(conf, []byte("moh: jazz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err = parseServeFlags([]string{"--config", conf, "--data", "rel", "--dialplan", "p.lua"})
	if err != nil || cfg.MOH != "jazz" || cfg.Data != "rel" || cfg.Dialplan != "p.lua" {
		t.Fatalf("prompt name and flags: %+v %v", cfg, err)
	}
}

// Each failing check of serve comes before anything is created.
func TestPreflightCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.lua")
	if err := os.WriteFile(plan, []byte("function on_call(call) call:hangup() end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"serve", "--sip", "127.0.0.1:0", "--sip-tls", "", "--https", "", "--webrtc-port", "0"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--dialplan", filepath.Join(dir, "nope.lua")}, "nope.lua"},
		{[]string{"--dialplan", plan, "--metrics", busy.Addr().String()}, "metrics: "},
		{[]string{"--dialplan", plan, "--ws", busy.Addr().String()}, "address already in use"},
		{[]string{"--dialplan", plan, "--log-file", filepath.Join(dir, "no-such-dir", "ss.log")}, "log file"},
		{[]string{"--dialplan", plan, "--log-file", dir}, "not a regular file"},
		{[]string{"--dialplan", plan, "--sip-tls", "127.0.0.1:0", "--config", writeFile(t, dir, "c.yaml", "tls_cert: x.pem\ntls_key: y.pem\n")}, "tls certificate"},
	} {
		data := filepath.Join(dir, "data-"+strings.ReplaceAll(tt.want, " ", "_"))
		code, out, errs := runCLI(append(append(append([]string{}, base...), "--data", data), tt.args...)...)
		if code != 1 || out != "" || !strings.Contains(errs, tt.want) || !strings.Contains(errs, "nothing was created") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, out, errs)
		}
		if _, err := os.Stat(data); err == nil {
			t.Errorf("%v: %s was created", tt.args, data)
		}
	}
	if code, _, errs := runCLI(append(append([]string{}, base...), "--dialplan", plan, "--data", filepath.Join(file, "d"))...); code != 1 ||
		!strings.Contains(errs, "not a directory") {
		t.Errorf("data under a file: %d %q", code, errs)
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
