package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestShort runs every stage once at a low rate (about 30 s in all) as a
// correctness check of the softswitch under the benchmark's load and of
// the harness itself: it fails on errors, failed or dropped calls and
// missing audio, never on a timing or a rate.
//
//	go test -count=1 ./bench/sysbench/
func TestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the softswitch and runs sipp, Kamailio-free, ~30 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cfg := config{bin: os.Getenv(binEnv), short: true, users: 20,
		stages: map[string]bool{"register": true, "setup": true, "relay": true, "transcode": true, "prompt": true, "conference": true}}
	rep, err := run(ctx, cfg, testWriter{t})
	t.Log(rep.markdown())
	if err != nil {
		t.Fatal(err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

const binEnv = "SYSBENCH_SOFTSWITCH"

// TestMain builds the softswitch, then runs the tests again inside a
// private network namespace with only lo up.
func TestMain(m *testing.M) {
	if os.Getenv(nsEnv) != "" {
		os.Exit(m.Run())
	}
	if _, err := exec.LookPath("sipp"); err != nil || os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "sysbench tests need root (unshare --net) and sipp")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "sysbench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "softswitch")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/softswitch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building softswitch:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	os.Setenv(binEnv, bin)
	code := reexecInNamespace()
	os.RemoveAll(dir)
	os.Exit(code)
}
