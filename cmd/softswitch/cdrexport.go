package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

// cdrFilter selects records for `cdr list`; zero fields match everything.
type cdrFilter struct {
	since, until time.Time
	ext, cause   string
}

func (f cdrFilter) match(c store.CDR) bool {
	if !f.since.IsZero() && c.Start.Before(f.since) {
		return false
	}
	if !f.until.IsZero() && !c.Start.Before(f.until) {
		return false
	}
	if f.ext != "" && c.Caller != f.ext && c.Destination != f.ext && !targetIs(c.Target, f.ext) {
		return false
	}
	return f.cause == "" || c.Cause == f.cause || (c.Open() && c.State == f.cause)
}

// targetIs reports whether a leg B target ("user/1002", "trunk/x/1002")
// ends in ext.
func targetIs(target, ext string) bool {
	return target == ext || (len(target) > len(ext) && target[len(target)-len(ext)-1] == '/' && target[len(target)-len(ext):] == ext)
}

// apply keeps the matching records, the latest last of them (0: all).
func (f cdrFilter) apply(cdrs []store.CDR, last int) []store.CDR {
	out := cdrs[:0:0]
	for _, c := range cdrs {
		if f.match(c) {
			out = append(out, c)
		}
	}
	if last > 0 && len(out) > last {
		out = out[len(out)-last:]
	}
	return out
}

// timeFlag parses --since/--until: a date, a date and time (local), RFC
// 3339, or a duration before now.
func timeFlag(dst *time.Time) func(string) error {
	return func(s string) error {
		t, err := parseWhen(s, time.Now())
		if err != nil {
			return err
		}
		*dst = t
		return nil
	}
}

func parseWhen(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a duration ago must not be negative", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want 2006-01-02, \"2006-01-02 15:04\", RFC 3339 or a duration such as 90m", s)
}

// cdrJSON is one record as `cdr list --format json` writes it.
type cdrJSON struct {
	UID             string            `json:"uid,omitempty"`
	State           string            `json:"state"`
	CallID          string            `json:"call_id"`
	Caller          string            `json:"caller"`
	Destination     string            `json:"destination"`
	Target          string            `json:"target"`
	Start           time.Time         `json:"start"`
	Answer          *time.Time        `json:"answer,omitempty"`
	End             *time.Time        `json:"end,omitempty"`
	DurationSeconds float64           `json:"duration_s"`
	Cause           string            `json:"cause"`
	SIPCode         int               `json:"sip_code"`
	Q850            int               `json:"q850"`
	Side            string            `json:"side"`
	CodecA          string            `json:"codec_a"`
	CodecB          string            `json:"codec_b"`
	Vars            map[string]string `json:"vars"`
	TransferredFrom string            `json:"transferred_from,omitempty"`
	Recording       string            `json:"recording,omitempty"`
	Node            string            `json:"node,omitempty"` // the node that handled the call (several behind a proxy)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// writeCDRsJSON writes a JSON array of the records.
func writeCDRsJSON(w io.Writer, cdrs []store.CDR) error {
	out := make([]cdrJSON, 0, len(cdrs))
	for _, c := range cdrs {
		vars := c.Vars
		if vars == nil {
			vars = map[string]string{}
		}
		out = append(out, cdrJSON{UID: c.UID, State: c.State, CallID: c.CallID, Caller: c.Caller, Destination: c.Destination,
			Target: c.Target, Start: c.Start.UTC(), Answer: timePtr(c.Answer), End: timePtr(c.End),
			DurationSeconds: c.Duration().Seconds(), Cause: c.Cause, SIPCode: c.SIPCode, Q850: c.Q850, Side: c.Side,
			CodecA: c.CodecA, CodecB: c.CodecB, Vars: vars, TransferredFrom: c.TransferredFrom, Recording: c.Recording, Node: c.Node})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("cdr list: %w", err)
	}
	return nil
}

var cdrCSVHeader = []string{"uid", "state", "call_id", "caller", "destination", "target", "start", "answer", "end",
	"duration_s", "cause", "sip_code", "q850", "side", "codec_a", "codec_b", "transferred_from", "recording"}

// writeCDRsCSV writes RFC 4180 CSV with a header; each variable any record
// has (call:set) is one more column, "var.NAME", sorted by name.
func writeCDRsCSV(w io.Writer, cdrs []store.CDR) error {
	names := map[string]bool{}
	for _, c := range cdrs {
		for k := range c.Vars {
			names[k] = true
		}
	}
	vars := slices.Sorted(maps.Keys(names))
	cw := csv.NewWriter(w)
	head := slices.Clone(cdrCSVHeader)
	for _, v := range vars {
		head = append(head, "var."+v)
	}
	if err := cw.Write(head); err != nil {
		return fmt.Errorf("cdr list: %w", err)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for _, c := range cdrs {
		row := []string{c.UID, c.State, c.CallID, c.Caller, c.Destination, c.Target, ts(c.Start), ts(c.Answer), ts(c.End),
			strconv.FormatFloat(c.Duration().Seconds(), 'f', 3, 64), c.Cause, strconv.Itoa(c.SIPCode), strconv.Itoa(c.Q850),
			c.Side, c.CodecA, c.CodecB, c.TransferredFrom, c.Recording}
		for _, v := range vars {
			row = append(row, c.Vars[v])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("cdr list: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cdr list: %w", err)
	}
	return nil
}
