package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

// cdrCmd implements `softswitch cdr list [--last N] [--open] [--data DIR]`.
// Finished calls are listed: those a crash cut say "interrupted" in CAUSE,
// their duration running to the server's last heartbeat. --open lists the
// calls in progress instead (CAUSE: ringing or up; after a crash, until the
// next start closes them, the calls it cut).
func cdrCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError("cdr: want list")
	}
	fs := flag.NewFlagSet("cdr list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "./data", "data directory")
	last := fs.Int("last", 20, "how many of the latest records (0: all)")
	open := fs.Bool("open", false, "list the calls in progress")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError("cdr list: " + err.Error())
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	var cdrs []store.CDR
	if *open {
		cdrs, err = st.OpenCDRs(ctx)
	} else {
		cdrs, err = st.CDRs(ctx, *last)
	}
	if err != nil {
		return fmt.Errorf("cdr list: %w", err)
	}
	writeCDRs(stdout, cdrs, time.Now())
	return nil
}

// writeCDRs prints one line per record; an open record shows its state as
// the cause and its duration so far.
func writeCDRs(w io.Writer, cdrs []store.CDR, now time.Time) {
	fmt.Fprintf(w, "%-20s %-8s %-14s %-16s %-12s %8s %-12s %4s %4s %-7s %s\n",
		"START", "CALLER", "DESTINATION", "TARGET", "CAUSE", "DURATION", "SIDE", "SIP", "Q850", "CODECS", "CALL-ID")
	for _, c := range cdrs {
		cause, d := c.Cause, c.Duration()
		if c.Open() {
			cause = c.State
			if !c.Answer.IsZero() {
				d = now.Sub(c.Answer)
			}
		}
		fmt.Fprintf(w, "%-20s %-8s %-14s %-16s %-12s %8s %-12s %4d %4d %-7s %s%s",
			c.Start.Local().Format("2006-01-02 15:04:05"), dash(c.Caller), dash(c.Destination), dash(c.Target), cause,
			d.Round(time.Second), dash(c.Side), c.SIPCode, c.Q850, dash(c.CodecA)+"/"+dash(c.CodecB), c.CallID, varsText(c.Vars))
		if c.TransferredFrom != "" {
			fmt.Fprintf(w, " transferred-from=%s", c.TransferredFrom)
		}
		if c.Cause == store.CauseTransferred {
			fmt.Fprintf(w, " uid=%s", c.UID)
		}
		fmt.Fprintln(w)
	}
}

// closeInterruptedCDRs closes the records a crash left open: at start,
// before any call, and only when no other server runs on data (its calls
// are not interrupted).
func closeInterruptedCDRs(ctx context.Context, st *store.Store, data string, log *slog.Logger) error {
	if c, err := net.DialTimeout("unix", filepath.Join(data, controlSocket), time.Second); err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: another softswitch runs on this data directory", filepath.Join(data, controlSocket))
	}
	n, err := st.CloseInterruptedCDRs(ctx)
	if err != nil {
		return fmt.Errorf("cdrs: %w", err)
	}
	if n > 0 {
		log.Warn("calls cut by the last stop of the server recorded as interrupted", "calls", n)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// varsText formats a CDR's variables (call:set) as " name=value" pairs
// sorted by name, values quoted; "" for none.
func varsText(vars map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(&b, " %s=%q", k, vars[k])
	}
	return b.String()
}
