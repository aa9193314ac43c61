package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/b2bua/callstory"
	"github.com/softswitch/softswitch/b2bua/store"
)

// callShow answers `call show ID`: one call's story, its record and, while
// it lasts, what it is doing now.
type callShow struct {
	keeper  *callstory.Keeper
	history int // calls kept (call_history)
	media   *callMedia
	engine  *b2bua.Engine
	store   *store.Store
}

func (cs callShow) show(args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError("call show: want one call id")
	}
	id := args[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	story, err := cs.keeper.Story(ctx, id)
	if errors.Is(err, callstory.ErrUnknownCall) {
		return "", cs.unknown(ctx, id)
	}
	if err != nil {
		return "", fmt.Errorf("call show: %w", err)
	}
	if live := cs.media.read(story.CallID, false); len(live) > 0 {
		story.Media = live // the call goes on: its counters now
	}
	var b strings.Builder
	now := time.Now()
	for _, c := range cs.engine.Calls() {
		if c.ID == story.CallID {
			l := toLive(c, now)
			fmt.Fprintf(&b, "in progress: %s for %s, media %s\n", l.State, time.Duration(l.AgeSeconds*float64(time.Second)).Round(time.Millisecond), orDash(l.Media))
		}
	}
	if recs, err := cs.store.CDRsOfCall(ctx, story.CallID); err == nil && len(recs) > 0 {
		writeRecord(&b, recs[len(recs)-1])
	}
	if err := story.Render(&b, now); err != nil {
		return "", err
	}
	return b.String(), nil
}

// unknown explains why a call has no story: older than the history (its
// record says when it was), or never seen.
func (cs callShow) unknown(ctx context.Context, id string) error {
	recs, err := cs.store.CDRsOfCall(ctx, id)
	if err != nil || len(recs) == 0 {
		return fmt.Errorf("no call %q among the last %d calls (call_history): it is older, or never reached this server", id, cs.history)
	}
	r := recs[len(recs)-1]
	return fmt.Errorf("call %q (%s -> %s, started %s, cause %s) is older than the last %d calls whose story is kept (call_history): only its record remains (softswitch cdr list)",
		id, r.Caller, r.Destination, r.Start.Local().Format(time.DateTime), orDash(r.Cause), cs.history)
}

// writeRecord summarises a call's CDR: who, outcome, what was chosen.
func writeRecord(w io.Writer, r store.CDR) {
	media := mediaKind(r)
	if r.Answer.IsZero() {
		media = "none (not answered)"
	}
	fmt.Fprintf(w, "record: %s -> %s, state %s, cause %s (side %s, SIP %d), target %s\n", r.Caller, r.Destination,
		r.State, orDash(r.Cause), orDash(r.Side), r.SIPCode, orDash(r.Target))
	fmt.Fprintf(w, "chosen: codec A %s, codec B %s: %s\n", orDash(r.CodecA), orDash(r.CodecB), media)
}

// callCmd implements `softswitch call show ID`.
func callCmd(args []string, stdout io.Writer) error {
	_, rest, err := subcommand(stdout, "call", map[string]string{"show": "ladder, SDPs and verdicts of a recent call"}, []string{"show"}, args)
	if err != nil {
		return err
	}
	c := newCommand(stdout, "call show", "ID", "Show a recent call's ladder, SDPs and verdicts (softswitch calls lists the ids).")
	data := c.dataFlag()
	pos, err := c.parseN(rest, "ID")
	if err != nil {
		return err
	}
	if strings.ContainsAny(pos[0], " \t\n") || pos[0] == "" {
		return usageError(fmt.Sprintf("call show: %q: a call id holds no spaces", pos[0]))
	}
	text, err := controlCall(*data, "call show "+pos[0])
	if err != nil {
		return fmt.Errorf("call show: %w", err)
	}
	_, err = io.WriteString(stdout, text)
	return err
}
