package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// procTree is a process and its descendants (Kamailio forks workers,
// the softswitch is one process): CPU and RSS summed over all of them.
type procTree struct {
	root  int
	alone bool  // the root process only, not its children
	more  []int // other roots counted with it (a cluster: nodes and their proxy)
}

// pids returns root and every descendant, from /proc/PID/task/*/children.
func (p procTree) pids() []int {
	out := append([]int{p.root}, p.more...)
	if p.alone {
		return out
	}
	for i := 0; i < len(out) && i < 4096; i++ {
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(out[i]) + "/task")
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(out[i]) + "/task/" + t.Name() + "/children")
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(f); err == nil {
					out = append(out, n)
				}
			}
		}
	}
	return out
}

// cpu returns utime+stime of the tree, summed.
func (p procTree) cpu() time.Duration {
	var ticks int64
	for _, pid := range p.pids() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// after the comm: state(0) ppid(1) ... utime(11) stime(12)
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + st
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// rssKB returns VmRSS of the tree in KiB (shared pages of forked workers
// are counted once per process, as ps does).
func (p procTree) rssKB() int64 {
	var kb int64
	for _, pid := range p.pids() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				f := strings.Fields(line)
				if len(f) >= 2 {
					n, _ := strconv.ParseInt(f[1], 10, 64)
					kb += n
				}
			}
		}
	}
	return kb
}

// cpuMeter measures the share of one core a tree used between start and stop.
type cpuMeter struct {
	tree  procTree
	cpu0  time.Duration
	wall0 time.Time
	busy0 time.Duration
}

func startCPU(t procTree) *cpuMeter {
	return &cpuMeter{tree: t, cpu0: t.cpu(), wall0: time.Now(), busy0: machineBusy()}
}

// machine returns how busy the whole machine was since start, in % of
// one core (200 = both cores): what the benchmark and everyone else used.
func (m *cpuMeter) machine() float64 {
	wall := time.Since(m.wall0)
	if wall <= 0 {
		return 0
	}
	return 100 * (machineBusy() - m.busy0).Seconds() / wall.Seconds()
}

// machineBusy is the non-idle CPU time of all cores, from /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// stop returns CPU seconds used and the percentage of one core.
func (m *cpuMeter) stop() (time.Duration, float64) {
	used := m.tree.cpu() - m.cpu0
	wall := time.Since(m.wall0)
	if wall <= 0 {
		return used, 0
	}
	return used, 100 * used.Seconds() / wall.Seconds()
}

// loadAvg returns the first field of /proc/loadavg.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
