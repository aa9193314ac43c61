package trunk

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteStatus writes statuses as a table, one trunk a line:
//
//	TRUNK    TARGET               REGISTRATION                  REACHABLE
//	carrier  udp:192.0.2.7:5060   registered (expires in 9m51s) up for 2h3m
//	backup   udp:192.0.2.9:5060   failing: REGISTER refused...  down: no answer to OPTIONS
func WriteStatus(w io.Writer, sts []Status, now time.Time) error {
	if len(sts) == 0 {
		_, err := fmt.Fprintln(w, "no trunks configured")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRUNK\tTARGET\tREGISTRATION\tREACHABLE")
	for _, s := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Target, describeReg(s.Registration, now), describeReach(s.Reachability, now))
	}
	return tw.Flush()
}

func describeReg(r Registration, now time.Time) string {
	switch r.State {
	case "registered":
		return fmt.Sprintf("registered (expires in %s)", r.Expires.Sub(now).Round(time.Second))
	case "failing":
		return fmt.Sprintf("failing for %s: %s", now.Sub(r.Since).Round(time.Second), r.Reason)
	}
	return r.State
}

func describeReach(r Reachability, now time.Time) string {
	switch r.State {
	case "up":
		return fmt.Sprintf("up for %s", now.Sub(r.Since).Round(time.Second))
	case "down":
		return fmt.Sprintf("down for %s: %s", now.Sub(r.Since).Round(time.Second), r.Reason)
	}
	return r.State
}
