package main

import (
	"context"
	"encoding/json"
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
	asJSON := len(args) == 2 && args[1] == "--json"
	if len(args) != 1 && !asJSON {
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
	var live *liveCall
	for _, c := range cs.engine.Calls() {
		if c.ID == story.CallID {
			l := toLive(c, now)
			live = &l
		}
	}
	if asJSON {
		return storyJSON(story, live, now)
	}
	if live != nil {
		fmt.Fprintf(&b, "in progress: %s for %s, media %s\n", live.State, time.Duration(live.AgeSeconds*float64(time.Second)).Round(time.Millisecond), orDash(live.Media))
	}
	if recs, err := cs.store.CDRsOfCall(ctx, story.CallID); err == nil && len(recs) > 0 {
		writeRecord(&b, recs[len(recs)-1])
	}
	if err := story.Render(&b, now); err != nil {
		return "", err
	}
	return b.String(), nil
}

// shownCall is `call show ID --json`.
type shownCall struct {
	ID         string      `json:"id"`
	Legs       []string    `json:"legs"` // Call-IDs, leg A first
	InProgress *liveCall   `json:"in_progress,omitempty"`
	Ladder     []shownStep `json:"ladder"`
	Media      []shownLeg  `json:"media"`
	Verdicts   []string    `json:"verdicts"`
}

type shownStep struct {
	Offset    float64 `json:"offset_seconds"` // from the first message
	Leg       string  `json:"leg"`            // A, B1, B2, ...
	In        bool    `json:"in"`             // received by the softswitch
	Transport string  `json:"transport"`
	Remote    string  `json:"remote"`
	FirstLine string  `json:"first_line"`
	SDP       string  `json:"sdp,omitempty"`
}

type shownLeg struct {
	Leg string `json:"leg"`
	legCounters
	// Offsets in seconds from the call's first message, as the ladder's;
	// null: never.
	FirstRTPIn   *float64      `json:"first_rtp_in_seconds"`  // the first packet from the leg's peer
	FirstRTPOut  *float64      `json:"first_rtp_out_seconds"` // the first packet sent to it
	MediaTimeout *shownTimeout `json:"media_timeout,omitempty"`
	ICE          *shownICE     `json:"ice,omitempty"`   // a browser leg's transport (lite engine)
	Video        *shownVideo   `json:"video,omitempty"` // video relayed to and from a browser
}

// shownVideo is the video a browser leg relayed.
type shownVideo struct {
	PacketsIn   uint64 `json:"packets_in"`  // from the browser
	PacketsOut  uint64 `json:"packets_out"` // to it
	NotRelayed  uint64 `json:"not_relayed"` // its packets the other leg could not take
	FeedbackIn  uint64 `json:"feedback_in"` // its RTCP feedback relayed to the other browser
	FeedbackOut uint64 `json:"feedback_out"`
}

// shownTimeout is a leg's first RTP timeout or media failure.
type shownTimeout struct {
	At     *float64 `json:"at_seconds"`
	Reason string   `json:"reason"`
}

type shownICE struct {
	Checks        uint64   `json:"checks"` // connectivity checks answered
	FirstCheck    *float64 `json:"first_check_seconds"`
	Peer          string   `json:"peer"` // the selected pair's remote address
	Refused       uint64   `json:"datagrams_refused"`
	DTLSRole      string   `json:"dtls_role"` // ours; "": the handshake never started
	DTLSUp        bool     `json:"dtls_up"`
	DTLSConnected *float64 `json:"dtls_connected_seconds"`
}

// shownLegOf is leg m of story st for `call show --json`.
func shownLegOf(st callstory.Story, m callstory.LegMedia) shownLeg {
	at := func(t time.Time) *float64 {
		if o, ok := st.Offset(t); ok {
			return &o
		}
		return nil
	}
	out := shownLeg{Leg: m.Leg, legCounters: countersOf(m), FirstRTPIn: at(m.FirstRTPIn), FirstRTPOut: at(m.FirstRTPOut)}
	if m.MediaFailure != "" {
		out.MediaTimeout = &shownTimeout{At: at(m.MediaFailedAt), Reason: m.MediaFailure}
	}
	if m.ICEKnown {
		out.ICE = &shownICE{Checks: m.ICEChecks, FirstCheck: at(m.ICEFirstCheck), Peer: m.ICEPeer, Refused: m.ICEDropped,
			DTLSRole: m.DTLSRole, DTLSUp: m.DTLSUp, DTLSConnected: at(m.DTLSUpAt)}
	}
	if m.VideoIn+m.VideoOut > 0 {
		out.Video = &shownVideo{PacketsIn: m.VideoIn, PacketsOut: m.VideoOut, NotRelayed: m.VideoDropped,
			FeedbackIn: m.VideoFeedbackIn, FeedbackOut: m.VideoFeedbackOut}
	}
	return out
}

func storyJSON(st callstory.Story, live *liveCall, now time.Time) (string, error) {
	out := shownCall{ID: st.CallID, Legs: st.Legs, InProgress: live, Ladder: []shownStep{}, Media: []shownLeg{}, Verdicts: st.Verdicts(now)}
	if out.Verdicts == nil {
		out.Verdicts = []string{}
	}
	for _, e := range st.Entries {
		out.Ladder = append(out.Ladder, shownStep{Offset: e.At.Sub(st.Start()).Seconds(), Leg: e.Leg, In: e.In,
			Transport: e.Transport, Remote: e.Remote, FirstLine: e.FirstLine, SDP: e.SDP})
	}
	for _, m := range st.Media {
		out.Media = append(out.Media, shownLegOf(st, m))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return "", fmt.Errorf("call show: %w", err)
	}
	return string(b) + "\n", nil
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
	c := newCommand(stdout, "call show", "ID", "Show a recent call's ladder, SDPs, media and verdicts (softswitch calls lists the ids).")
	data := c.dataFlag()
	asJSON := c.fs.Bool("json", false, "print JSON")
	pos, err := c.parseN(rest, "ID")
	if err != nil {
		return err
	}
	if strings.ContainsAny(pos[0], " \t\n") || pos[0] == "" {
		return usageError(fmt.Sprintf("call show: %q: a call id holds no spaces", pos[0]))
	}
	cmd := "call show " + pos[0]
	if *asJSON {
		cmd += " --json"
	}
	text, err := controlCall(*data, cmd)
	if err != nil {
		return fmt.Errorf("call show: %w", err)
	}
	_, err = io.WriteString(stdout, text)
	return err
}
