package b2bua

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

// Transfer fallbacks (Config.TransferFallback): what happens to the
// transferred party when the transfer target fails.
const (
	TransferReconnect = "reconnect" // back to the referrer (the default)
	TransferHangup    = "hangup"    // the call ends with the target's cause
)

// notifyTimeout bounds one NOTIFY to a referrer.
const notifyTimeout = 5 * time.Second

// errNoTransfer refuses a method a transfer's dialplan cannot use.
var errNoTransfer = errors.New("not available while a transfer rings")

// transferSession is the dialplan's view of a transfer: the script runs
// for the Refer-To target with call.referred_by set, so it decides where
// (and whether) the transferred party goes. Its bridge rings the targets
// and keeps the answering leg for the transfer instead of bridging it.
type transferSession struct {
	*Call
	caller    string // the transferred party
	dest, by  string
	trusted   bool // the referrer may reach external targets
	presented presented
	timeout   time.Duration
	answered  *branchResult
	refused   *leg.Cause // the script hung up: the transfer is refused with this cause
}

func (t *transferSession) Destination() string { return t.dest }
func (t *transferSession) Caller() string      { return t.caller }
func (t *transferSession) ReferredBy() string  { return t.by }

func (t *transferSession) Answer(context.Context) error { return nil }
func (t *transferSession) Ring(context.Context) error   { return nil }
func (t *transferSession) Play(context.Context, string) error {
	return fmt.Errorf("play: %w", errNoTransfer)
}

func (t *transferSession) Collect(context.Context, dialplan.CollectOptions) (string, error) {
	return "", fmt.Errorf("collect: %w", errNoTransfer)
}

func (t *transferSession) Transfer(context.Context, string) error {
	return fmt.Errorf("transfer: %w", errNoTransfer)
}

func (t *transferSession) RecordCall(context.Context, string) (string, error) {
	return "", fmt.Errorf("record_call: %w", errNoTransfer)
}

func (t *transferSession) SetCaller(number, name string) {
	t.presented = presented{number: number, name: name}
}

// Hangup refuses the transfer: the referrer is told cause, the call stays.
func (t *transferSession) Hangup(_ context.Context, cause string) error {
	cs, ok := leg.CauseFromName(cause)
	if !ok {
		return fmt.Errorf("hangup: unknown cause %q", cause)
	}
	if cs.SIP < 300 {
		cs = leg.Declined
	}
	t.refused = &cs
	return nil
}

// Bridge rings targets for the transfer; the first to answer is kept.
func (t *transferSession) Bridge(ctx context.Context, targets []string, o dialplan.BridgeOptions) (bool, string, error) {
	if t.answered != nil {
		return false, "", errors.New("bridge: the transfer target already answered")
	}
	if len(targets) == 0 {
		return false, "", errors.New("bridge: no target")
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = t.e.cfg.RingTimeout
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	opts := leg.DialOptions{CallID: t.info.ID, Caller: t.presented.number, CallerName: t.presented.name,
		Trusted: t.trusted, Source: t.info.Source}
	f := t.startFork(dctx, targets, opts)
	winner, _ := t.ring(ctx, dctx, f, nil, timeout)
	cancel()
	t.e.hangUpLate(f)
	if winner == nil {
		if err := t.gone(ctx); err != nil {
			return false, "", err
		}
		return false, bestCause(f.causes).Name, nil
	}
	t.answered = winner
	return true, "", nil
}

// transferOutcome is how a transfer ended.
type transferOutcome struct {
	next   leg.Leg // the leg the transferred party talks to now
	target string  // next's dialplan target
	ended  bool    // the call is over (the caller left, or the fallback hung up)
}

// transferCallee carries out a blind transfer the callee b asked for
// (REFER on leg B): the caller hears ringback while the dialplan routes
// the Refer-To target; the answering leg replaces b, which is released.
// When the target fails, b is told why and, by default, the caller talks
// to b again.
func (c *Call) transferCallee(ctx context.Context, r *leg.Refer, b leg.Leg, target string) transferOutcome {
	notify(ctx, c, r, 100, "Trying")
	by, trusted := referrer(target)
	b.SetAudioOutput(discard{rate: b.AudioSink().Rate()})
	c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
	stopRing := ringback(c.gateA)
	ts := &transferSession{Call: c, caller: c.info.Caller, dest: r.Target, by: by, trusted: trusted, presented: c.presented}
	c.log.Info("transfer", "referred_by", by, "refer_to", r.URI, "target", r.Target)
	c.mu.Lock()
	oldTarget, oldCodec := c.cdr.Target, c.cdr.CodecB
	c.mu.Unlock()
	cause, err := c.runTransfer(ctx, ts)
	stopRing()
	if err != nil { // the caller hung up meanwhile
		notify(ctx, c, r, 487, "Request Terminated")
		hangupLeg(b, leg.Normal)
		return transferOutcome{ended: true}
	}
	if ts.answered == nil {
		c.setTarget(oldTarget, oldCodec)
		notify(ctx, c, r, cause.SIP, cause.Reason)
		c.log.Info("transfer failed", "cause", cause.Name)
		if c.e.cfg.TransferFallback == TransferHangup || legGone(b) {
			hangupLeg(b, leg.Normal)
			c.hangupA(cause, "system")
			return transferOutcome{ended: true}
		}
		return transferOutcome{next: b, target: oldTarget}
	}
	next := ts.answered.l
	notify(ctx, c, r, 200, "OK")
	hangupLeg(b, leg.Normal)
	c.transferCDR(r.Target, ts.answered.target, next.Codec(), "callee")
	c.log.Info("transferred", "referred_by", by, "target", ts.answered.target)
	return transferOutcome{next: next, target: ts.answered.target}
}

// runTransfer runs the dialplan for a transfer and returns why it failed
// when nothing answered. The error is the caller's hangup.
func (c *Call) runTransfer(ctx context.Context, ts *transferSession) (leg.Cause, error) {
	err := c.e.dp.Run(ctx, ts)
	if gone := c.gone(ctx); gone != nil {
		if ts.answered != nil {
			hangupLeg(ts.answered.l, leg.Normal)
			ts.answered = nil
		}
		return leg.Cause{}, gone
	}
	switch {
	case ts.answered != nil:
		return leg.Normal, nil
	case err != nil:
		c.log.Error("transfer dialplan failed", "error", err)
		return leg.Failure, nil
	case ts.refused != nil:
		return *ts.refused, nil
	}
	return leg.NotFound, nil // the script routed the target nowhere
}

// transferCDR ends the record of the call so far as transferred and
// goes on in a new one linked to it.
func (c *Call) transferCDR(dest, target, codec, side string) {
	now := time.Now()
	c.mu.Lock()
	old := c.cdr
	old.State, old.End, old.Cause, old.Side, old.SIPCode, old.Q850 = store.CDREnded, now, store.CauseTransferred, side, 200, leg.Normal.Q850
	old.CodecA = c.a.Codec()
	c.cdr = store.CDR{UID: rand.Text(), State: store.CDRUp, CallID: c.info.ID, Caller: c.info.Caller, Destination: dest,
		Target: target, Start: now, Answer: now, CodecA: old.CodecA, CodecB: codec, TransferredFrom: old.UID,
		Recording: old.Recording}
	rec := c.cdr
	c.mu.Unlock()
	if c.e.cdrs != nil {
		c.e.cdrs.Write(old)
		c.e.cdrs.Progress(rec)
	}
}

// referrer names who transfers from the dialplan target its leg was
// reached by: an extension ("user/1002": "1002") may reach what it could
// dial itself; anything else (a trunk, a URI) only what an anonymous
// caller could.
func referrer(target string) (string, bool) {
	if ext, ok := strings.CutPrefix(target, "user/"); ok {
		return ext, true
	}
	return target, false
}

// notify tells the referrer how its transfer goes; a failure is logged.
func notify(ctx context.Context, c *Call, r *leg.Refer, code int, reason string) {
	if r.Notifier == nil {
		return
	}
	if code < 100 { // a cause with no SIP status (a BYE-only one)
		code, reason = leg.Failure.SIP, leg.Failure.Reason
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := r.Notifier.Notify(nctx, code, reason); err != nil {
		c.log.Info("transfer NOTIFY failed", "sipfrag", code, "error", err)
	}
}

// hangupLeg hangs up l, bounded in time.
func hangupLeg(l leg.Leg, cause leg.Cause) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = l.Hangup(ctx, cause)
}

// legGone drains l's queued events and tells whether the peer has left.
func legGone(l leg.Leg) bool {
	for {
		select {
		case ev, ok := <-l.Events():
			if !ok || ev.Kind == leg.EventHangup {
				return true
			}
		default:
			return false
		}
	}
}

// refuseRefers answers the transfers leg A asked for that no bridge took
// (the call was not bridged, or ended first).
func (c *Call) refuseRefers() {
	for {
		select {
		case r := <-c.refers:
			notify(c.ctx, c, r, 603, "Decline")
		default:
			return
		}
	}
}

// setBridging tells the event pump whether a bridge takes transfers.
func (c *Call) setBridging(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bridging = on
}
