package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/media/mixer"
	"github.com/softswitch/softswitch/media/rtpep"
)

// rate_limit, rtp_timeout and drain_timeout reach the configuration;
// negative values are refused; the shipped file documents the defaults.
func TestRateLimitAndRTPTimeoutConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg, err := parseServeFlags([]string{"--config", write("rate_limit:\n  invite: {rate: 100, burst: 300}\n  register: {rate: -1}\nrtp_timeout: 5s\ndrain_timeout: 2s\n")})
	if err != nil {
		t.Fatal(err)
	}
	if rl := cfg.RateLimit; rl.Invite.Rate != 100 || rl.Invite.Burst != 300 || rl.Register.Rate != -1 || cfg.RTPTimeout != 5*time.Second || cfg.DrainTimeout != 2*time.Second {
		t.Fatalf("config %+v", cfg)
	}
	if _, err := parseServeFlags([]string{"--config", write("rate_limit:\n  invite: {burst: -5}\n")}); err == nil || !strings.Contains(err.Error(), "rate_limit") {
		t.Fatalf("negative burst: err = %v", err)
	}
	if _, err := parseServeFlags([]string{"--config", write("drain_timeout: -1s\n")}); err == nil || !strings.Contains(err.Error(), "drain_timeout") {
		t.Fatalf("negative drain time: err = %v", err)
	}
	shipped, err := parseServeFlags([]string{"--config", "../../configs/softswitch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if rl := shipped.RateLimit; rl.Invite != sipserver.DefaultInviteLimit || rl.Register != sipserver.DefaultRegisterLimit || shipped.RTPTimeout != rtpep.DefaultRTPTimeout || shipped.DrainTimeout != 30*time.Second {
		t.Fatalf("shipped config does not document the defaults: %+v %v", rl, shipped.RTPTimeout)
	}
}

func TestConferenceConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	for body, want := range map[string]string{
		"conference:\n  rate: 48000\n  talkers: 5\n  threshold: 300\n": "",
		"conference:\n  rate: 11025\n":                                 "config: conference: rate 11025",
		"conference:\n  talkers: 100\n":                                "config: conference: talkers 100",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := parseServeFlags([]string{"--config", p})
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", body, err)
		case want == "" && (cfg.Conference.Rate != 48000 || cfg.Conference.Talkers != 5 || cfg.Conference.Threshold != 300):
			t.Errorf("%q: %+v", body, cfg.Conference)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: err %v, want %q", body, err, want)
		}
	}
	shipped, err := parseServeFlags([]string{"--config", "../../configs/softswitch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if c := shipped.Conference; c.Rate != mixer.DefaultRate || c.Talkers != mixer.DefaultTalkers || c.Threshold != mixer.DefaultThreshold {
		t.Errorf("shipped config does not document the conference defaults: %+v", c)
	}
}
