package main

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed scenarios/*.xml
var scenarios embed.FS

// sippJob is one bounded sipp client run.
type sippJob struct {
	scenario  string // file in scenarios/
	target    string // host:port
	users     []user // injection file, one line per user, used in turn
	service   string // -s
	rate      int    // calls per second
	calls     int    // -m
	localPort int    // -p; 0 lets sipp choose
	pause     time.Duration
	keys      map[string]string
	timeout   time.Duration // the whole run
}

// sippResult is what a run achieved.
type sippResult struct {
	ok, failed int
	wall       time.Duration
	rtt        []float64 // response times in ms, sorted
	err        error
	tail       string
}

func (r sippResult) rate() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.ok) / r.wall.Seconds()
}

// percentile of sorted values, p in [0,100].
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(sorted)-1))
	return sorted[i]
}

// writeScenario copies an embedded scenario into dir (sipp writes its
// trace files next to the scenario).
func writeScenario(dir, name string) (string, error) {
	b, err := scenarios.ReadFile("scenarios/" + name)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, b, 0o644)
}

// writeUsers writes a sipp injection file for digest auth.
func writeUsers(path string, users []user) error {
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for _, u := range users {
		fmt.Fprintf(&b, "%s;%s;[authentication username=%s password=%s]\n", u.ext, u.password, u.ext, u.password)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func (j sippJob) args(dir string) ([]string, error) {
	scen, err := writeScenario(dir, j.scenario)
	if err != nil {
		return nil, err
	}
	inf := filepath.Join(dir, "users.csv")
	if err := writeUsers(inf, j.users); err != nil {
		return nil, err
	}
	a := []string{j.target, "-sf", scen, "-inf", inf, "-m", strconv.Itoa(j.calls),
		"-r", strconv.Itoa(j.rate), "-rp", "1000", "-l", strconv.Itoa(max(j.rate*10, 100)),
		"-i", "127.0.0.1", "-t", "u1", "-nostdin", "-buff_size", "4194304",
		"-timeout", strconv.Itoa(int(j.timeout.Seconds())) + "s", "-timeout_error",
		"-recv_timeout", "5000", "-max_recv_loops", "5000", "-max_sched_loops", "5000",
		"-trace_rtt", "-rtt_freq", "1", "-trace_err",
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-fd", "1",
		"-key", "expires", "3600"}
	if j.localPort == 0 {
		if j.localPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	a = append(a, "-p", strconv.Itoa(j.localPort))
	if j.service != "" {
		a = append(a, "-s", j.service)
	}
	if j.pause > 0 {
		a = append(a, "-d", strconv.Itoa(int(j.pause.Milliseconds())))
	}
	for k, v := range j.keys {
		a = append(a, "-key", k, v)
	}
	return a, nil
}

// run runs the job in a fresh directory under dir and reads its traces.
func (j sippJob) run(ctx context.Context, dir string) sippResult {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sippResult{err: err}
	}
	args, err := j.args(dir)
	if err != nil {
		return sippResult{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = dir
	start := time.Now()
	out, runErr := cmd.CombinedOutput()
	res := sippResult{wall: time.Since(start)}
	if len(out) > 2000 {
		out = out[len(out)-2000:]
	}
	res.tail = string(out)
	res.ok, res.failed, res.wall = readStat(filepath.Join(dir, "stat.csv"), res.wall)
	res.rtt = readRTT(dir)
	if runErr != nil && res.failed == 0 && res.ok < j.calls {
		res.err = fmt.Errorf("sipp: %v", runErr)
	}
	return res
}

// readStat reads the last line of sipp's -trace_stat file: successful and
// failed calls, and the elapsed time sipp measured.
func readStat(path string, wall time.Duration) (ok, failed int, elapsed time.Duration) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, wall
	}
	defer f.Close()
	var header, last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	elapsed = wall
	for i, h := range header {
		if i >= len(last) {
			break
		}
		switch h {
		case "SuccessfulCall(C)":
			ok, _ = strconv.Atoi(last[i])
		case "FailedCall(C)":
			failed, _ = strconv.Atoi(last[i])
		case "ElapsedTime(C)":
			if d, err := parseSippDuration(last[i]); err == nil && d > 0 {
				elapsed = d
			}
		}
	}
	return ok, failed, elapsed
}

// parseSippDuration reads "HH:MM:SS:mmmuuu" style durations, or seconds.
func parseSippDuration(s string) (time.Duration, error) {
	p := strings.Split(s, ":")
	if len(p) < 3 {
		f, err := strconv.ParseFloat(s, 64)
		return time.Duration(f * float64(time.Second)), err
	}
	h, _ := strconv.Atoi(p[0])
	m, _ := strconv.Atoi(p[1])
	sec, err := strconv.ParseFloat(p[2], 64)
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second))
	if len(p) > 3 && len(p[3]) > 0 {
		frac, _ := strconv.Atoi(p[3])
		d += time.Duration(frac) * time.Microsecond
	}
	return d, err
}

// readRTT reads every *_rtt.csv in dir: Date_ms;response_time_ms;rtd_no.
func readRTT(dir string) []float64 {
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var v []float64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ";")
			if len(fields) < 2 {
				continue
			}
			if x, err := strconv.ParseFloat(fields[1], 64); err == nil {
				v = append(v, x)
			}
		}
		f.Close()
	}
	sort.Float64s(v)
	return v
}

// sippUAS is a long-running answering sipp, registered beforehand.
type sippUAS struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startUAS runs call_uas.xml on port until stop (bounded by limit).
func startUAS(dir string, port int, limit time.Duration) (*sippUAS, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	scen, err := writeScenario(dir, "call_uas.xml")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("sipp", "-sf", scen, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "u1",
		"-nostdin", "-buff_size", "4194304", "-timeout", strconv.Itoa(int(limit.Seconds()))+"s",
		"-max_recv_loops", "5000", "-max_sched_loops", "5000", "-trace_err")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	u := &sippUAS{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(u.done) }()
	return u, nil
}

func (u *sippUAS) stop() {
	_ = u.cmd.Process.Kill()
	select {
	case <-u.done:
	case <-time.After(5 * time.Second):
	}
}
