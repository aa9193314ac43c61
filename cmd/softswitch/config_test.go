package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseServeFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("ok.yaml", "sip: 127.0.0.1:5070\nsip_tls: \"\"\nws: 127.0.0.1:8080\nregistrar:\n  min_expires: 30\nauth:\n  nonce_ttl: 2m\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(Config) bool
	}{
		{"defaults", nil, "", func(c Config) bool {
			return c.SIP == "0.0.0.0:5060" && c.SIPTLS == "0.0.0.0:5061" && c.HTTPS == "0.0.0.0:8443" && c.WS == "" && c.Data == "./data" && !c.DemoUsers
		}},
		{"file", []string{"--config", file}, "", func(c Config) bool {
			return c.SIP == "127.0.0.1:5070" && c.SIPTLS == "" && c.WS == "127.0.0.1:8080" && c.Registrar.MinExpires == 30 && c.Auth.NonceTTL == 2*time.Minute
		}},
		{"flag overrides file", []string{"--config", file, "--sip", "127.0.0.1:0", "--sip-tls", "127.0.0.1:5061"}, "", func(c Config) bool {
			return c.SIP == "127.0.0.1:0" && c.SIPTLS == "127.0.0.1:5061"
		}},
		{"empty turns off", []string{"--https", "", "--sip-tls="}, "", func(c Config) bool { return c.HTTPS == "" && c.SIPTLS == "" }},
		{"all off", []string{"--sip", "", "--sip-tls", "", "--https", ""}, "every SIP listener is off", nil},
		{"bad address", []string{"--sip", "localhost"}, "not host:port", nil},
		{"bad host", []string{"--sip", "example.com:5060"}, "not an IP address", nil},
		{"bad port", []string{"--https", "0.0.0.0:70000"}, "out of range", nil},
		{"bad rtp range", []string{"--rtp-ports", "20000-10000"}, "rtp_ports", nil},
		{"rtp range low", []string{"--rtp-ports", "80-90"}, "rtp_ports", nil},
		{"rtp not a range", []string{"--rtp-ports", "10000"}, "LO-HI", nil},
		{"bad media ip", []string{"--media-ip", "my-host"}, "media_ip", nil},
		{"bad level", []string{"--log-level", "chatty"}, "log_level", nil},
		{"pprof on loopback", []string{"--pprof", "127.0.0.1:0"}, "", func(c Config) bool { return c.Pprof == "127.0.0.1:0" }},
		{"pprof off loopback", []string{"--pprof", "0.0.0.0:6060"}, "not a loopback", nil},
		{"pprof not an address", []string{"--pprof", "localhost"}, "not a loopback", nil},
		{"unknown flag", []string{"--sipp", "x"}, "flag provided but not defined", nil},
		{"stray argument", []string{"extra"}, "unexpected argument", nil},
		{"unknown key", []string{"--config", write("typo.yaml", "sip_tsl: x\n")}, "field sip_tsl not found", nil},
		{"wrong type", []string{"--config", write("type.yaml", "registrar:\n  min_expires: soon\n")}, "cannot unmarshal", nil},
		{"bad algorithm", []string{"--config", write("alg.yaml", "auth:\n  algorithms: [SHA-1]\n")}, "auth.algorithms", nil},
		{"bad ephemeral username format", []string{"--config", write("eph.yaml", "auth:\n  ephemeral:\n    secret: s\n    username_format: user-expiry\n")}, "auth.ephemeral", nil},
		{"negative", []string{"--config", write("neg.yaml", "registrar:\n  max_contacts: -1\n")}, "negative", nil},
		{"cert without key", []string{"--config", write("cert.yaml", "tls_cert: /x.pem\n")}, "go together", nil},
		{"recordings", []string{"--config", write("rec.yaml", "recordings:\n  dir: rec\n  format: wav\n")}, "", func(c Config) bool {
			return c.Recordings.Dir == filepath.Join(dir, "rec") && c.Recordings.Format == "wav"
		}},
		{"recordings ogg", []string{"--config", write("ogg.yaml", "recordings:\n  format: ogg\n")}, "", func(c Config) bool { return c.Recordings.Format == "ogg" }},
		{"recordings format", []string{"--config", write("mp3.yaml", "recordings:\n  format: mp3\n")}, "recordings.format", nil},
		{"empty file", []string{"--config", write("empty.yaml", "")}, "", func(c Config) bool { return c.SIP == "0.0.0.0:5060" }},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, "no such file", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

// The shipped configuration file parses and keeps the defaults.
func TestShippedConfig(t *testing.T) {
	cfg, err := parseServeFlags([]string{"--config", "../../configs/softswitch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	def := defaultConfig()
	if cfg.SIP != def.SIP || cfg.HTTPS != def.HTTPS || cfg.SIPTLS != def.SIPTLS {
		t.Fatalf("shipped config differs from the defaults it documents: %+v", cfg)
	}
	// Its paths are relative to configs/: make run (from the checkout) uses ./data and scripts/.
	if cfg.Data != filepath.Join("..", "..", "data") || cfg.Dialplan != filepath.Join("..", "..", "scripts", "dialplan.lua") || !cfg.DemoUsers {
		t.Fatalf("shipped config: data %q, dialplan %q, demo users %v", cfg.Data, cfg.Dialplan, cfg.DemoUsers)
	}
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	call := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, append(args, "--data", data), &out, &errb)
		return code, out.String(), errb.String()
	}
	// No database yet: refused, nothing created; init makes one.
	if code, _, errs := call("user", "add", "2001"); code != 1 || !strings.Contains(errs, "no softswitch database in "+data) {
		t.Fatalf("user add without a database: %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "softswitch.db")); err == nil {
		t.Fatal("user add created a database")
	}
	if code, _, errs := call("init"); code != 0 {
		t.Fatalf("init: %d %q", code, errs)
	}
	if code, out, _ := call("user", "add", "2001", "--name", "Alice"); code != 0 || !strings.Contains(out, "password ") {
		t.Fatalf("add with generated password: %d %q", code, out)
	}
	if code, _, errs := call("user", "add", "2001", "--password", "abcd"); code == 0 || !strings.Contains(errs, "already exists") {
		t.Fatalf("duplicate add: %d %q", code, errs)
	}
	if code, _, errs := call("user", "add", "bad ext!"); code != 2 || !strings.Contains(errs, "not a valid extension") {
		t.Fatalf("bad extension: %d %q", code, errs)
	}
	if code, out, _ := call("user", "passwd", "2001", "--password", "new-secret"); code != 0 || !strings.Contains(out, "changed") {
		t.Fatalf("passwd: %d %q", code, out)
	}
	if code, _, errs := call("user", "passwd", "9999", "--password", "new-secret"); code == 0 || !strings.Contains(errs, "not found") {
		t.Fatalf("passwd unknown: %d %q", code, errs)
	}
	if code, out, _ := call("user", "list"); code != 0 || !strings.Contains(out, "2001") || !strings.Contains(out, "Alice") {
		t.Fatalf("list: %d %q", code, out)
	}
	st, err := openStore(ctx, data, DatabaseConfig{}, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.User(ctx, "2001")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if u.HA1MD5 == "" || u.HA1SHA256 == "" || strings.Contains(u.HA1MD5+u.HA1SHA256, "new-secret") {
		t.Fatalf("stored user %+v", u)
	}
	if code, _, _ := call("user", "del", "2001"); code != 0 {
		t.Fatal("del failed")
	}
	if code, _, errs := call("user", "del", "2001"); code == 0 || !strings.Contains(errs, "not found") {
		t.Fatalf("del twice: %d %q", code, errs)
	}
}
