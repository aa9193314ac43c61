package b2bua

import (
	"context"
	"log/slog"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/dialplan"
)

// PickupPolicy is what a Dialplan implements to decide pickups: the
// script's on_pickup(p). Without it, or when the script defines no
// on_pickup, any extension may pick up any ringing call.
type PickupPolicy interface {
	OnPickup(ctx context.Context, p dialplan.Pickup) (dialplan.PickupDecision, error)
}

// pickupReq offers a call that rings the leg of an INVITE with Replaces
// naming one of its branches (directed call pickup, RFC 3891).
type pickupReq struct {
	l        leg.Leg
	by       string    // the extension picking up
	accepted chan bool // whether the call took the leg
}

// pickup hands in to the call whose branch it replaces, which answers it
// as if the branch had answered (the branches still ringing are
// CANCELed), and waits for that call to end. Only an extension may pick
// up, and the dialplan's on_pickup must allow it (403 otherwise); a call
// that no longer rings refuses with 481.
func (e *Engine) pickup(ctx context.Context, in leg.Leg, info CallInfo) {
	log := e.log.With("call_id", info.ID, "picks_up", info.Pickup)
	gone := leg.Cause{Name: "not-found", SIP: 481, Reason: "Call/Transaction Does Not Exist", Q850: 1}
	if !info.Authenticated {
		log.Info("pickup refused: not from an extension")
		hangupLeg(in, leg.Forbidden)
		return
	}
	e.mu.Lock()
	t := e.active[info.Pickup]
	e.mu.Unlock()
	if t == nil {
		log.Info("pickup refused: the call has ended")
		hangupLeg(in, gone)
		return
	}
	if !e.pickupAllowed(ctx, log, info.Caller, t.info) {
		hangupLeg(in, leg.Forbidden)
		return
	}
	req := pickupReq{l: in, by: info.Caller, accepted: make(chan bool, 1)}
	timer := time.NewTimer(handoverTimeout)
	defer timer.Stop()
	select {
	case t.pickups <- req:
	case <-timer.C:
		log.Info("pickup refused: the call no longer rings")
		hangupLeg(in, gone)
		return
	case <-t.over:
		hangupLeg(in, gone)
		return
	}
	if !<-req.accepted {
		hangupLeg(in, gone)
		return
	}
	log.Info("call picked up", "by", info.Caller)
	<-t.over // the call owns the leg until it ends
}

// pickupAllowed asks the dialplan whether extension by may pick up the
// ringing call ringing; it logs why when it may not.
func (e *Engine) pickupAllowed(ctx context.Context, log *slog.Logger, by string, ringing CallInfo) bool {
	pp, ok := e.dp.(PickupPolicy)
	if !ok {
		return true
	}
	d, err := pp.OnPickup(ctx, dialplan.Pickup{By: by, Caller: ringing.Caller, Destination: ringing.Destination})
	switch {
	case err != nil:
		log.Info("pickup refused: on_pickup failed", "error", err)
		return false
	case !d.Handled:
		return true
	case !d.Allow:
		log.Info("pickup refused by the dialplan's on_pickup", "destination", ringing.Destination)
		return false
	}
	return true
}

// pickedUp answers the leg of a pickup and returns it as the fork's
// winner, or nil when it could not be answered.
func (c *Call) pickedUp(ctx context.Context, p pickupReq) *branchResult {
	if err := p.l.Answer(ctx); err != nil {
		c.log.Info("pickup failed: the picking phone did not confirm", "error", err)
		p.accepted <- false
		return nil
	}
	p.accepted <- true
	c.log.Info("picked up", "by", p.by)
	return &branchResult{l: p.l, target: "pickup/" + p.by, branch: "pickup"}
}
