package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

// cdrCmd implements `softswitch cdr list [filters] [--format F]`.
// Finished calls are listed: those a crash cut say "interrupted" in CAUSE,
// their duration running to the server's last heartbeat. --open lists the
// calls in progress instead (CAUSE: ringing or up; after a crash, until the
// next start closes them, the calls it cut).
func cdrCmd(ctx context.Context, args []string, stdout io.Writer) error {
	_, rest, err := subcommand(stdout, "cdr", map[string]string{"list": "call detail records, filtered, as a table, CSV or JSON"}, []string{"list"}, args)
	if err != nil {
		return err
	}
	c := newCommand(stdout, "cdr list", "", "List call detail records, oldest first: those matching every filter given, the latest --last of them.")
	data := c.dataFlag()
	db := c.dbFlag()
	last := c.fs.Int("last", 20, "how many of the latest matching records (0: all)")
	open := c.fs.Bool("open", false, "list the calls in progress instead")
	var f cdrFilter
	c.fs.Func("since", "records of calls started at or after T (2006-01-02, \"2006-01-02 15:04\", RFC 3339, or a duration ago: 90m)", timeFlag(&f.since))
	c.fs.Func("until", "records of calls started before T (same forms as --since)", timeFlag(&f.until))
	c.fs.StringVar(&f.ext, "ext", "", "records where EXT is the caller, the destination or the target")
	c.fs.StringVar(&f.cause, "cause", "", "records with this cause (normal, busy, no-answer, interrupted, ...)")
	format := c.fs.String("format", "table", "table, csv or json (csv and json carry every field and the call:set variables)")
	if _, err := c.parseN(rest); err != nil {
		return err
	}
	if *last < 0 {
		return usageError(fmt.Sprintf("cdr list: --last %d: want 0 (all) or more", *last))
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return usageError(fmt.Sprintf("cdr list: --format %q: want table, csv or json", *format))
	}
	st, err := openExistingStore(ctx, *data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	var cdrs []store.CDR
	if *open {
		cdrs, err = st.OpenCDRs(ctx)
	} else {
		cdrs, err = st.CDRs(ctx, 0)
	}
	if err != nil {
		return fmt.Errorf("cdr list: %w", err)
	}
	cdrs = f.apply(cdrs, *last)
	switch *format {
	case "csv":
		return writeCDRsCSV(stdout, cdrs)
	case "json":
		return writeCDRsJSON(stdout, cdrs)
	}
	writeCDRs(stdout, cdrs, time.Now())
	return nil
}

// writeCDRs prints one line per record in aligned columns; an open record
// shows its state as the cause and its duration so far. The variables
// (call:set) follow the Call-ID as name="value" pairs, then the record's
// links: transferred-from=UID, recording=PATH; then node=NAME when the
// record names the node that handled the call.
func writeCDRs(w io.Writer, cdrs []store.CDR, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "START\tCALLER\tDESTINATION\tTARGET\tCAUSE\tDURATION\tSIDE\tSIP\tQ850\tCODECS\tCALL-ID")
	for _, c := range cdrs {
		cause, d := c.Cause, c.Duration()
		if c.Open() {
			cause = c.State
			if !c.Answer.IsZero() {
				d = now.Sub(c.Answer)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s%s",
			c.Start.Local().Format("2006-01-02 15:04:05"), cell(c.Caller), cell(c.Destination), cell(c.Target), cell(cause),
			d.Round(time.Second), cell(c.Side), c.SIPCode, c.Q850, cell(c.CodecA)+"/"+cell(c.CodecB), c.CallID, varsText(c.Vars))
		if c.TransferredFrom != "" {
			fmt.Fprintf(tw, " transferred-from=%s", c.TransferredFrom)
		}
		if c.Recording != "" {
			fmt.Fprintf(tw, " recording=%s", cell(c.Recording))
		}
		if c.Cause == store.CauseTransferred {
			fmt.Fprintf(tw, " uid=%s", c.UID)
		}
		if c.Node != "" {
			fmt.Fprintf(tw, " node=%s", cell(c.Node))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// cell is a table value: "-" for none, and never a tab, newline or space
// that would shift the columns.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r == ' ' {
			return '_'
		}
		return r
	}, s)
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
