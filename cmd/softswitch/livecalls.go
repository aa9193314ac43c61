package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/b2bua/leg"
)

// liveCall is one call of `softswitch calls --json`.
type liveCall struct {
	ID          string    `json:"id"`
	Caller      string    `json:"caller"`
	Destination string    `json:"destination"`
	State       string    `json:"state"`
	Start       time.Time `json:"start"`
	AgeSeconds  float64   `json:"age_seconds"`
	Answer      time.Time `json:"answer,omitzero"`
	Media       string    `json:"media"` // "prompt", "relayed", "transcoded"; "" while ringing
	A           liveLeg   `json:"a"`
	B           *liveLeg  `json:"b,omitempty"`
}

type liveLeg struct {
	Transport string       `json:"transport,omitempty"`
	Source    string       `json:"source,omitempty"`
	Target    string       `json:"target,omitempty"`
	Trunk     string       `json:"trunk,omitempty"`
	Codec     string       `json:"codec,omitempty"`
	Media     *legCounters `json:"media,omitempty"`
}

func toLive(c b2bua.CallSnapshot, now time.Time) liveCall {
	l := liveCall{ID: c.ID, Caller: c.Caller, Destination: c.Destination, State: c.State, Start: c.Start,
		AgeSeconds: now.Sub(c.Start).Round(time.Millisecond).Seconds(), Answer: c.Answer,
		A: liveLeg{Transport: c.Transport, Source: c.Source, Trunk: c.Trunk, Codec: c.CodecA}}
	if c.Target != "" {
		l.B = &liveLeg{Target: c.Target, Codec: c.CodecB}
	}
	switch {
	case c.Answer.IsZero():
	case c.Target == "" || c.CodecB == "":
		l.Media = "prompt"
	case strings.EqualFold(c.CodecA, c.CodecB):
		l.Media = "relayed"
	default:
		l.Media = "transcoded"
	}
	return l
}

// callsControl answers the control commands `calls [--json]` and
// `calls hangup ID [--cause CAUSE]`.
type callsControl struct {
	engine *b2bua.Engine
	media  *callMedia
}

func (cc callsControl) list(args []string) (string, error) {
	asJSON := len(args) == 1 && args[0] == "--json"
	if len(args) > 0 && !asJSON {
		return "", fmt.Errorf("calls: unexpected arguments %q", args)
	}
	now := time.Now()
	calls := make([]liveCall, 0)
	for _, c := range cc.engine.Calls() {
		l := toLive(c, now)
		if cc.media != nil {
			ms := cc.media.read(c.ID, false)
			l.A.Media = busiest(ms, "A")
			if l.B != nil {
				l.B.Media = busiest(ms, "B")
			}
		}
		calls = append(calls, l)
	}
	if asJSON {
		b, err := json.MarshalIndent(calls, "", "  ")
		if err != nil {
			return "", fmt.Errorf("calls: %w", err)
		}
		return string(b) + "\n", nil
	}
	return formatCalls(calls), nil
}

func formatCalls(calls []liveCall) string {
	if len(calls) == 0 {
		return "no calls in progress\n"
	}
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCALLER\tDESTINATION\tAGE\tSTATE\tMEDIA\tLEG A\tLEG B")
	for _, c := range calls {
		a := join(c.A.Transport, c.A.Codec, c.A.Source, c.A.Media.String())
		bl := "-"
		if c.B != nil {
			bl = join(c.B.Target, c.B.Codec, c.B.Media.String())
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Caller, c.Destination,
			(time.Duration(c.AgeSeconds * float64(time.Second))).Round(time.Second), c.State, orDash(c.Media), a, bl)
	}
	_ = w.Flush()
	return b.String()
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return orDash(strings.Join(out, " "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (cc callsControl) hangup(args []string) (string, error) {
	id, cause, err := hangupArgs(args)
	if err != nil {
		return "", err
	}
	if err := cc.engine.Hangup(id, cause); err != nil {
		if errors.Is(err, b2bua.ErrNoSuchCall) {
			return "", fmt.Errorf("no call %q in progress (softswitch calls lists them)", id)
		}
		return "", err
	}
	return fmt.Sprintf("call %s: hanging up (cause %s)\n", id, cause.Name), nil
}

// hangupArgs parses `ID [--cause CAUSE]`.
func hangupArgs(args []string) (string, leg.Cause, error) {
	fs := flag.NewFlagSet("calls hangup", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("cause", "normal", "hangup cause (normal, busy, declined, ...)")
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", leg.Cause{}, usageError("calls hangup: " + err.Error())
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return "", leg.Cause{}, usageError(fmt.Sprintf("calls hangup: unexpected argument %q", fs.Arg(0)))
	}
	if id == "" {
		return "", leg.Cause{}, usageError("calls hangup: want the call id (softswitch calls lists them)")
	}
	cause, ok := leg.CauseFromName(*name)
	if !ok {
		return "", leg.Cause{}, usageError(fmt.Sprintf("calls hangup: unknown cause %q (normal, busy, declined, unavailable, congestion, ...)", *name))
	}
	return id, cause, nil
}

// callsCmd implements `softswitch calls [--json]` and `softswitch calls
// hangup ID [--cause CAUSE]`.
func callsCmd(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "hangup" {
		return callsHangupCmd(args[1:], stdout)
	}
	c := newCommand(stdout, "calls", "", "List the calls in progress on the running server (softswitch calls hangup --help: end one).")
	data := c.dataFlag()
	asJSON := c.fs.Bool("json", false, "print JSON")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("calls: unknown subcommand %q (want hangup)", pos[0]))
	}
	cmd := "calls"
	if *asJSON {
		cmd += " --json"
	}
	return controlPrint(*data, "calls", cmd, stdout)
}

func callsHangupCmd(args []string, stdout io.Writer) error {
	c := newCommand(stdout, "calls hangup", "ID", "End a call in progress with a cause (softswitch calls lists the ids).")
	data := c.dataFlag()
	cause := c.fs.String("cause", "normal", "hangup cause (normal, busy, declined, unavailable, congestion, ...)")
	pos, err := c.parseN(args, "ID")
	if err != nil {
		return err
	}
	if strings.ContainsAny(pos[0], " \t\n") || pos[0] == "" {
		return usageError("calls hangup: want one call id (softswitch calls lists them)")
	}
	if _, ok := leg.CauseFromName(*cause); !ok {
		return usageError(fmt.Sprintf("calls hangup: unknown --cause %q (normal, busy, declined, unavailable, congestion, ...)", *cause))
	}
	return controlPrint(*data, "calls hangup", "calls hangup "+pos[0]+" --cause "+*cause, stdout)
}

// controlPrint sends cmd to the running server and prints its answer.
func controlPrint(data, name, cmd string, stdout io.Writer) error {
	text, err := controlCall(data, cmd)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = io.WriteString(stdout, text)
	return err
}
