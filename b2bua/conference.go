package b2bua

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media/mixer"
	"github.com/softswitch/softswitch/media/recording"
)

var _ dialplan.Conferencer = (*Call)(nil)

const (
	confPINTries   = 3
	confPINTimeout = 10 * time.Second
)

// Conference puts the caller into a room (see dialplan.Conferencer): PIN
// check, admission (full, locked), then the caller's audio goes into the
// room's mixer and the mix of the others comes back through leg A's gate
// (so prompts for this caller still override it) until the caller hangs
// up or is kicked. DTMF: *6 mutes and unmutes, *7 kicks the member who
// joined last (moderators), *5 locks and unlocks the
// room (moderators only; others hear a prompt). With o.Record the room's
// mix is recorded until the room closes, and the caller's CDR names it.
func (c *Call) Conference(ctx context.Context, room string, o dialplan.ConferenceOptions) (bool, string, error) {
	if err := dialplan.CheckRoomName(room); err != nil {
		return false, "", fmt.Errorf("conference: %w", err)
	}
	if err := c.gone(ctx); err != nil {
		return false, "", err
	}
	if err := c.Answer(ctx); err != nil {
		return false, "", fmt.Errorf("conference: %w", err)
	}
	c.setTarget("conference/"+room, "")
	if o.PIN != "" {
		ok, err := c.confPIN(ctx, o.PIN)
		if err != nil || !ok {
			return false, dialplan.ConfWrongPIN, err
		}
	}
	// Opus legs mix in wideband; G.711 legs stay at 8000 Hz whatever is asked.
	rs := c.e.confs
	if err := c.a.SetRate(rs.rate()); err != nil {
		c.log.Debug("conference: leg keeps its rate", "error", err)
	}
	cm := &confMember{callID: c.info.ID, caller: c.info.Caller, codec: c.a.Codec(), moderator: o.Moderator, joined: time.Now(),
		kick: make(chan struct{}), notice: make(chan string, 1)}
	r, n, err := rs.enter(room, o.Max, cm, func(mix *mixer.Room) (*mixer.Member, error) {
		m, err := mix.Join(c.info.ID, c.a.AudioSink().Rate(), c.gateA)
		if err == nil {
			m.SetMuted(o.Muted)
			if o.Gain > 0 {
				m.SetGain(o.Gain)
			}
		}
		return m, err
	})
	switch {
	case errors.Is(err, errRoomFull):
		c.log.Info("conference: room full", "room", room)
		return false, dialplan.ConfFull, c.confBye(ctx, "conf-full")
	case errors.Is(err, errRoomLocked):
		c.log.Info("conference: room locked", "room", room)
		return false, dialplan.ConfLocked, c.confBye(ctx, "conf-locked")
	case err != nil:
		return false, "", err
	}
	link(c.a, cm.m)
	if o.Record {
		c.confRecord(r)
	}
	c.log.Info("conference: joined", "room", room, "member", cm.id, "members", n, "codec", cm.codec, "rate", cm.m.Rate(),
		"pipeline", pipeline(c.a, cm.m))
	if tone, err := c.e.prompts.Prompt("conf-join", r.mix.Rate()); err == nil {
		r.mix.Play(tone.PCM)
	}
	defer func() {
		c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
		left := rs.leave(r, cm)
		c.log.Info("conference: left", "room", room, "member", cm.id, "members", left)
		if left == 0 {
			return
		}
		if tone, err := c.e.prompts.Prompt("conf-leave", r.mix.Rate()); err == nil {
			r.mix.Play(tone.PCM)
		}
	}()
	if n == 1 {
		if err := c.Play(ctx, "conf-alone"); err != nil {
			return false, "", err
		}
	}
	return c.confLoop(ctx, r, cm)
}

// confLoop serves a member's DTMF, operator notices and kick until the
// caller leaves.
func (c *Call) confLoop(ctx context.Context, r *confRoom, cm *confMember) (bool, string, error) {
	star := false
	for {
		select {
		case d := <-c.digits:
			p := ""
			switch {
			case d == '*':
				star = true
				continue
			case star && d == '6':
				on := !cm.m.Muted()
				cm.m.SetMuted(on)
				p = "conf-unmuted"
				if on {
					p = "conf-muted"
				}
				c.log.Info("conference: mute by DTMF", "room", r.name, "member", cm.id, "muted", on)
			case star && d == '5' && cm.moderator:
				p = "conf-lock-off"
				if c.e.confs.toggleLock(r) {
					p = "conf-lock-on"
				}
				c.log.Info("conference: lock by DTMF", "room", r.name, "member", cm.id, "prompt", p)
			case star && d == '7' && cm.moderator:
				// ConfBridge's admin_kick_last: the member who joined last.
				if k := c.e.confs.kickLast(r, cm); k != nil {
					c.log.Info("conference: kick by DTMF", "room", r.name, "member", cm.id, "kicked", k.id)
				} else {
					p = "conf-alone"
				}
			case star && (d == '5' || d == '7'):
				p = "conf-not-moderator"
			}
			star = false
			if p != "" {
				if err := c.Play(ctx, p); err != nil {
					return false, "", err
				}
			}
		case p := <-cm.notice:
			if err := c.Play(ctx, p); err != nil {
				return false, "", err
			}
		case <-cm.kick:
			c.log.Info("conference: kicked", "room", r.name, "member", cm.id)
			return false, dialplan.ConfKicked, c.confBye(ctx, "conf-kicked")
		case <-ctx.Done():
			return false, "", c.gone(ctx)
		}
	}
}

// confPIN asks for the PIN up to three times.
func (c *Call) confPIN(ctx context.Context, pin string) (bool, error) {
	for try := 1; try <= confPINTries; try++ {
		got, err := c.Collect(ctx, dialplan.CollectOptions{Max: 16, Timeout: confPINTimeout, Terminator: "#", Prompt: "conf-pin"})
		if err != nil {
			return false, err
		}
		if got == pin {
			return true, nil
		}
		c.log.Info("conference: wrong PIN", "try", try)
		if try < confPINTries {
			if err := c.Play(ctx, "conf-bad-pin"); err != nil {
				return false, err
			}
		}
	}
	return false, c.confBye(ctx, "conf-pin-failed")
}

// confRecordTries bounds the names tried for a room's recording when
// ROOM-DATE-TIME is taken (the room reopened within the second).
const confRecordTries = 10

// confRecord records r's mix (the first member asking opens the file,
// ROOM-DATE-TIME, or ROOM-DATE-TIME-N when taken) and names the file in
// the caller's CDR; a file that cannot be created is logged, the call
// goes on.
func (c *Call) confRecord(r *confRoom) {
	path := c.e.confs.record(r, func() (*recording.Recorder, error) {
		base := r.name + "-" + time.Now().UTC().Format("20060102-150405")
		var err error
		for i := 1; i <= confRecordTries; i++ {
			name := base
			if i > 1 {
				name += "-" + strconv.Itoa(i)
			}
			var p string
			if p, err = c.e.recordingPath(name, c.e.cfg.RecordingFormat); err != nil {
				return nil, err
			}
			var rec *recording.Recorder
			if rec, err = recording.New(p, c.log, recording.WithFormat(c.e.cfg.RecordingFormat)); !errors.Is(err, fs.ErrExist) {
				return rec, err
			}
		}
		return nil, err
	})
	if path == "" {
		return
	}
	c.mu.Lock()
	c.cdr.Recording = path
	c.mu.Unlock()
	c.progressCDR("") // the open record names the file: a crash leaves both
}

// confBye plays a last prompt; the script then decides (usually hangs up).
func (c *Call) confBye(ctx context.Context, prompt string) error { return c.Play(ctx, prompt) }

// rate is the mixing rate.
func (rs *confRooms) rate() int {
	if rs.cfg.Rate == 0 {
		return mixer.DefaultRate
	}
	return rs.cfg.Rate
}
