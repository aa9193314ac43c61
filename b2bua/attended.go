package b2bua

import (
	"context"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/media"
)

// handoverTimeout bounds how long a call waits for another to hand over
// its callee (the other call may be ringing, or ending).
const handoverTimeout = 3 * time.Second

// handoverReq asks a call for its bridged leg B: an attended transfer
// (REFER with Replaces) by the caller of both calls joins the two callees.
type handoverReq struct {
	caller string // who asks: the extension calling both calls
	reply  chan handoverRes
}

type handoverRes struct {
	l      leg.Leg
	target string
	cause  leg.Cause // when l is nil: why the call cannot hand over
}

// transferCaller carries out a transfer leg A asked for (REFER on leg A):
// blind (the dialplan routes the Refer-To target) or attended (Replaces
// names the caller's other call, whose callee is taken over). b hears
// ringback meanwhile. On success leg A is released and b becomes the
// call's leg A, bridged to the new leg; on failure the caller is told why
// and talks to b again (or the call ends, per the fallback).
func (c *Call) transferCaller(ctx context.Context, r *leg.Refer, b leg.Leg, target string, gateB *media.Gate) transferOutcome {
	notify(ctx, c, r, 100, "Trying")
	c.mu.Lock()
	c.detaching = true
	c.mu.Unlock()
	c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
	b.SetAudioOutput(discard{rate: b.AudioSink().Rate()})
	bNumber, _ := referrer(target)
	stopRing := ringback(gateB)
	var (
		next       leg.Leg
		nextTarget string
		cause      leg.Cause
	)
	if r.Replaces != nil {
		c.log.Info("attended transfer", "referred_by", c.info.Caller, "replaces", r.Replaces.CallID)
		next, nextTarget, cause = c.takeOver(ctx, r.Replaces)
	} else {
		c.log.Info("transfer", "referred_by", c.info.Caller, "refer_to", r.URI, "target", r.Target)
		ts := &transferSession{Call: c, caller: bNumber, dest: r.Target, by: c.info.Caller, trusted: c.info.Authenticated || c.info.Trunk != "",
			presented: presented{number: bNumber}}
		var err error
		if cause, err = c.runTransfer(ctx, ts); err == nil && ts.answered != nil {
			next, nextTarget = ts.answered.l, ts.answered.target
		}
	}
	stopRing()
	if next == nil {
		c.mu.Lock()
		c.detaching = false
		callerLeft := c.aCause != nil
		c.mu.Unlock()
		if ctx.Err() == nil {
			notify(ctx, c, r, cause.SIP, cause.Reason)
		}
		c.log.Info("transfer failed", "cause", cause.Name)
		switch {
		case callerLeft || ctx.Err() != nil:
			c.cancel(errCallerGone)
			hangupLeg(b, leg.Normal)
			return transferOutcome{ended: true}
		case c.e.cfg.TransferFallback == TransferHangup:
			hangupLeg(b, leg.Normal)
			c.hangupA(cause, "system")
			return transferOutcome{ended: true}
		}
		return transferOutcome{next: b, target: target}
	}
	notify(ctx, c, r, 200, "OK")
	hangupLeg(c.a, leg.Normal)
	<-c.pumped // leg A ended: its pump is done
	c.transferCDR(r.Target, nextTarget, next.Codec(), "caller")
	c.mu.Lock()
	c.cdr.Caller = bNumber
	c.aCause = nil // the caller's BYE after the NOTIFY 200 does not end the call
	c.detaching = false
	c.mu.Unlock()
	// The transferred party is the call's leg A from now on; the hold the
	// old leg A may have put it on went with that leg.
	c.a, c.gateA, c.ended = b, gateB, false
	c.aHeld.Store(false)
	select {
	case <-c.holdA:
	default:
	}
	c.presented = presented{number: bNumber}
	pumped := make(chan struct{})
	c.pumped = pumped
	go c.pump(pumped)
	c.log.Info("transferred", "referred_by", c.info.Caller, "target", nextTarget)
	return transferOutcome{next: next, target: nextTarget}
}

// takeOver finds the call whose leg A is the dialog rep names and takes
// its callee; that call ends, its caller released.
func (c *Call) takeOver(ctx context.Context, rep *leg.Replaces) (leg.Leg, string, leg.Cause) {
	notThere := leg.Cause{Name: "not-found", SIP: 481, Reason: "Call/Transaction Does Not Exist", Q850: 1}
	if !c.info.Authenticated {
		// Only an extension proves it owns both calls it joins.
		c.log.Warn("attended transfer refused: the caller is not an authenticated extension")
		return nil, "", leg.Forbidden
	}
	c.e.mu.Lock()
	other := c.e.active[rep.CallID]
	c.e.mu.Unlock()
	if other == nil || other == c {
		return nil, "", notThere
	}
	req := handoverReq{caller: c.info.Caller, reply: make(chan handoverRes, 1)}
	t := time.NewTimer(handoverTimeout)
	defer t.Stop()
	select {
	case other.handover <- req:
	case <-t.C:
		return nil, "", notThere // not bridged (still ringing, or ending)
	case <-ctx.Done():
		return nil, "", leg.Cancelled
	}
	res := <-req.reply
	if res.l == nil {
		return nil, "", res.cause
	}
	return res.l, res.target, leg.Normal
}

// handOver gives this call's callee b to another call of the same
// caller (attended transfer) and ends this call as transferred.
func (c *Call) handOver(req handoverReq, b leg.Leg, target string) bool {
	if !c.info.Authenticated || req.caller != c.info.Caller {
		c.log.Warn("attended transfer refused: the dialog replaced belongs to another caller", "caller", req.caller)
		req.reply <- handoverRes{cause: leg.Forbidden}
		return false
	}
	b.SetAudioOutput(discard{rate: b.AudioSink().Rate()})
	c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
	req.reply <- handoverRes{l: b, target: target}
	c.log.Info("callee handed over to an attended transfer", "target", target)
	c.hangupA(leg.Cause{Name: store.CauseTransferred, Q850: leg.Normal.Q850}, "caller")
	return true
}
