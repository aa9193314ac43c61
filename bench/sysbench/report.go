package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// table is one result table of the report.
type table struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
}

func (t *table) add(cols ...string) { t.rows = append(t.rows, cols) }

// report is everything a run measured, printed as Markdown.
type report struct {
	started time.Time
	command string
	tables  []*table
	errors  []string
}

func (r *report) table(title string, header ...string) *table {
	t := &table{title: title, header: header}
	r.tables = append(r.tables, t)
	return t
}

func (r *report) failf(format string, a ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, a...))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "?"
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n# sysbench %s\n\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "command `%s`, nproc %d, CPU %q, load average at the end %s\n", r.command, runtime.NumCPU(), cpuModel(), loadAvg())
	for _, t := range r.tables {
		fmt.Fprintf(&b, "\n## %s\n\n| %s |\n|%s\n", t.title, strings.Join(t.header, " | "), strings.Repeat("---|", len(t.header)))
		for _, row := range t.rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
		for _, n := range t.notes {
			fmt.Fprintf(&b, "\n%s\n", n)
		}
	}
	if len(r.errors) > 0 {
		b.WriteString("\n## Errors\n\n")
		for _, e := range r.errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	return b.String()
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func itoa(v int) string   { return fmt.Sprintf("%d", v) }
