package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// cdrCmd implements `softswitch cdr list [--last N] [--data DIR]`.
func cdrCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError("cdr: want list")
	}
	fs := flag.NewFlagSet("cdr list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", "./data", "data directory")
	last := fs.Int("last", 20, "how many of the latest records (0: all)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError("cdr list: " + err.Error())
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	cdrs, err := st.CDRs(ctx, *last)
	if err != nil {
		return fmt.Errorf("cdr list: %w", err)
	}
	fmt.Fprintf(stdout, "%-20s %-8s %-14s %-16s %-12s %8s %-12s %4s %4s %-7s %s\n",
		"START", "CALLER", "DESTINATION", "TARGET", "CAUSE", "DURATION", "SIDE", "SIP", "Q850", "CODECS", "CALL-ID")
	for _, c := range cdrs {
		fmt.Fprintf(stdout, "%-20s %-8s %-14s %-16s %-12s %8s %-12s %4d %4d %-7s %s\n",
			c.Start.Local().Format("2006-01-02 15:04:05"), c.Caller, c.Destination, dash(c.Target), c.Cause,
			c.Duration().Round(time.Second), c.Side, c.SIPCode, c.Q850, dash(c.CodecA)+"/"+dash(c.CodecB), c.CallID)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
