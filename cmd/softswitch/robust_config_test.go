package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/media/rtpep"
)

// rate_limit and rtp_timeout reach the configuration; a negative burst is refused.
func TestRateLimitAndRTPTimeoutConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := parseServeFlags([]string{"--config", write("rate_limit:\n  invite: {rate: 100, burst: 300}\n  register: {rate: -1}\nrtp_timeout: 5s\n")})
	if err != nil {
		t.Fatal(err)
	}
	if rl := cfg.RateLimit; rl.Invite.Rate != 100 || rl.Invite.Burst != 300 || rl.Register.Rate != -1 || cfg.RTPTimeout != 5*time.Second {
		t.Fatalf("config %+v", cfg)
	}
	if _, err := parseServeFlags([]string{"--config", write("rate_limit:\n  invite: {burst: -5}\n")}); err == nil || !strings.Contains(err.Error(), "rate_limit") {
		t.Fatalf("negative burst: err = %v", err)
	}
	shipped, err := parseServeFlags([]string{"--config", "../../configs/softswitch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if rl := shipped.RateLimit; rl.Invite != sipserver.DefaultInviteLimit || rl.Register != sipserver.DefaultRegisterLimit || shipped.RTPTimeout != rtpep.DefaultRTPTimeout {
		t.Fatalf("shipped config does not document the defaults: %+v %v", rl, shipped.RTPTimeout)
	}
}
