// Command sysbench is the system benchmark behind `make bench`: it runs
// the softswitch (and, for reference, Kamailio and rtpengine) inside a
// private network namespace holding only a loopback interface, drives them
// with sipp and its own Go RTP/WebRTC load generator, and prints what each
// achieved with the CPU and memory it took.
//
//	go run ./bench/sysbench [-short] [-bin bin/softswitch] [-stages register,setup,relay,transcode,prompt,conference,cluster,cluster-transcode]
//
// Every load loop is bounded in count and in time; ports come from the OS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

const nsEnv = "SYSBENCH_IN_NAMESPACE"

// config chooses the stages and their sizes.
type config struct {
	bin       string
	short     bool
	stages    map[string]bool
	reference bool // also run Kamailio / rtpengine
	users     int
	keep      bool             // keep the work directory (sipp traces, configs)
	steps     map[string][]int // stage -> rates or call counts, overriding the defaults
	profiles  string           // directory for the softswitch's CPU and heap profiles of each media step; "" none
}

func main() {
	var cfg config
	var stages string
	flag.StringVar(&cfg.bin, "bin", "bin/softswitch", "softswitch binary")
	flag.StringVar(&cfg.profiles, "server-profiles", "", "write the softswitch's CPU profile (over the measurement window) and heap profile of each register, setup, relay and transcode step into this directory")
	flag.BoolVar(&cfg.short, "short", false, "a ~10 s correctness run at low rates (pass/fail on errors and lost calls, not timing)")
	flag.StringVar(&stages, "stages", "register,setup,relay,transcode,prompt,conference,cluster,cluster-transcode", "stages to run")
	flag.BoolVar(&cfg.reference, "reference", true, "also measure Kamailio and rtpengine")
	flag.IntVar(&cfg.users, "users", 200, "extensions to create")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the work directory with sipp's traces and the generated configs")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load generator (this process, not the servers) to this file")
	stepFlags := map[string]*string{}
	for _, st := range []string{"register", "setup", "relay", "transcode", "prompt", "conference", "cluster", "cluster-transcode"} {
		stepFlags[st] = flag.String(st+"-steps", "", "comma-separated "+st+" steps (rates or calls) instead of the defaults")
	}
	flag.Parse()
	cfg.steps = map[string][]int{}
	for st, v := range stepFlags {
		for _, f := range strings.FieldsFunc(*v, func(r rune) bool { return r == ',' }) {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				fmt.Fprintf(os.Stderr, "sysbench: -%s-steps: %q is not a positive number\n", st, f)
				os.Exit(2)
			}
			cfg.steps[st] = append(cfg.steps[st], n)
		}
	}
	cfg.stages = map[string]bool{}
	for _, s := range strings.Split(stages, ",") {
		cfg.stages[strings.TrimSpace(s)] = true
	}
	if os.Getenv(nsEnv) == "" {
		os.Exit(reexecInNamespace())
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sysbench: -cpuprofile:", err)
			os.Exit(2)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := run(ctx, cfg, os.Stderr)
	fmt.Print(rep.markdown())
	if err != nil {
		fmt.Fprintln(os.Stderr, "sysbench:", err)
		stop()
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// reexecInNamespace runs this program again in a new network namespace
// with only lo up, so nothing it sends can leave the machine.
func reexecInNamespace() int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "sysbench runs in a private network namespace: it needs root, unshare and ip")
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", "sh", "-c", `ip link set lo up && exec "$@"`, "sh", self}, os.Args[1:]...)...)
	cmd.Env = append(os.Environ(), nsEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// logf prints progress to the log writer with the time.
func logf(w interface{ Write([]byte) (int, error) }, format string, a ...any) {
	fmt.Fprintf(w, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}
