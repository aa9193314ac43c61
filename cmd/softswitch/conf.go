package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/dialplan"
)

// confControl answers the control commands `conf list|show|kick|mute|unmute`.
type confControl struct{ engine *b2bua.Engine }

// register adds the conference commands to cmds.
func (cc confControl) register(cmds map[string]controlHandler) {
	cmds["conf list"] = cc.list
	cmds["conf show"] = cc.show
	cmds["conf kick"] = cc.kick
	cmds["conf mute"] = func(args []string) (string, error) { return cc.mute(args, true) }
	cmds["conf unmute"] = func(args []string) (string, error) { return cc.mute(args, false) }
}

// jsonFlag splits a trailing --json off args.
func jsonFlag(args []string) ([]string, bool) {
	if n := len(args); n > 0 && args[n-1] == "--json" {
		return args[:n-1], true
	}
	return args, false
}

func asJSON(name string, v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return string(b) + "\n", nil
}

func (cc confControl) list(args []string) (string, error) {
	args, js := jsonFlag(args)
	if len(args) > 0 {
		return "", fmt.Errorf("conf list: unexpected arguments %q", args)
	}
	rooms := cc.engine.Conferences()
	if js {
		return asJSON("conf list", rooms)
	}
	if len(rooms) == 0 {
		return "no conferences in progress\n", nil
	}
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ROOM\tMEMBERS\tTALKING\tLOCKED\tRATE")
	for _, r := range rooms {
		talking := 0
		for _, m := range r.Members {
			if m.Talking {
				talking++
			}
		}
		fmt.Fprintf(w, "%s\t%d/%d\t%d\t%v\t%d\n", r.Name, len(r.Members), r.Max, talking, r.Locked, r.Rate)
	}
	_ = w.Flush()
	return b.String(), nil
}

func (cc confControl) show(args []string) (string, error) {
	args, js := jsonFlag(args)
	if len(args) != 1 {
		return "", errors.New("conf show: want one room (softswitch conf list names them)")
	}
	r, err := cc.engine.Conference(args[0])
	if err != nil {
		return "", err
	}
	if js {
		return asJSON("conf show", r)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "room %s: %d/%d members, locked %v, mixing at %d Hz, %d ticks skipped\n", r.Name, len(r.Members), r.Max, r.Locked, r.Rate, r.SkippedTicks)
	if r.Recording != "" {
		fmt.Fprintf(&b, "recording to %s\n", r.Recording)
	}
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MEMBER\tCALLER\tCODEC\tRATE\tTALKING\tMUTED\tMODERATOR\tLEVEL\tLOSS\tIN FOR\tCALL")
	now := time.Now()
	for _, m := range r.Members {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%v\t%v\t%v\t%d\t%.1f%%\t%s\t%s\n", m.ID, orDash(m.Caller), orDash(m.Codec), m.Rate,
			m.Talking, m.Muted, m.Moderator, m.Level, 100*m.Loss, now.Sub(m.Joined).Round(time.Second), m.CallID)
	}
	_ = w.Flush()
	return b.String(), nil
}

func (cc confControl) kick(args []string) (string, error) {
	if len(args) != 2 {
		return "", errors.New("conf kick: want ROOM MEMBER")
	}
	if err := cc.engine.ConfKick(args[0], args[1]); err != nil {
		return "", err
	}
	return fmt.Sprintf("room %s: member %s removed\n", args[0], args[1]), nil
}

func (cc confControl) mute(args []string, on bool) (string, error) {
	verb := map[bool]string{true: "mute", false: "unmute"}[on]
	if len(args) != 2 {
		return "", fmt.Errorf("conf %s: want ROOM MEMBER", verb)
	}
	if err := cc.engine.ConfMute(args[0], args[1], on); err != nil {
		return "", err
	}
	return fmt.Sprintf("room %s: member %s %sd\n", args[0], args[1], verb), nil
}

// confCmd implements `softswitch conf list|show|kick|mute|unmute`.
func confCmd(args []string, stdout io.Writer) error {
	subs := map[string]string{
		"list":   "the rooms in use",
		"show":   "ROOM: its members (who talks, codec, loss)",
		"kick":   "ROOM MEMBER: remove a member (by member id, call id or caller)",
		"mute":   "ROOM MEMBER: mute a member",
		"unmute": "ROOM MEMBER: unmute a member",
	}
	sub, rest, err := subcommand(stdout, "conf", subs, []string{"list", "show", "kick", "mute", "unmute"}, args)
	if err != nil {
		return err
	}
	want := map[string][]string{"list": nil, "show": {"ROOM"}, "kick": {"ROOM", "MEMBER"}, "mute": {"ROOM", "MEMBER"}, "unmute": {"ROOM", "MEMBER"}}[sub]
	synopsis := ""
	for _, w := range want {
		synopsis += w + " "
	}
	c := newCommand(stdout, "conf "+sub, synopsis, "Conference rooms of the running server: "+subs[sub]+".")
	data := c.dataFlag()
	js := false
	if sub == "list" || sub == "show" {
		c.fs.BoolVar(&js, "json", false, "print JSON")
	}
	pos, err := c.parseN(rest, want...)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		if err := dialplan.CheckRoomName(pos[0]); err != nil {
			return usageError("conf " + sub + ": " + err.Error())
		}
	}
	for _, p := range pos[min(1, len(pos)):] {
		if p == "" || strings.ContainsAny(p, " \t\r\n") { // one field of the control line
			return usageError(fmt.Sprintf("conf %s: member %q: want a member id, call id or caller", sub, p))
		}
	}
	cmd := "conf " + sub
	for _, p := range pos {
		cmd += " " + p
	}
	if js {
		cmd += " --json"
	}
	return controlPrint(*data, "conf "+sub, cmd, stdout)
}
