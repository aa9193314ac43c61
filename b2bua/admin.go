package b2bua

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
)

// ErrNoSuchCall is returned for a call id that is not in progress.
var ErrNoSuchCall = errors.New("no such call in progress")

// CauseAdmin is the CDR cause of a call an operator hung up.
const CauseAdmin = "admin"

var errAdminHangup = errors.New("hung up by an operator")

// CallSnapshot is what an operator sees of a call in progress.
type CallSnapshot struct {
	ID          string
	Caller      string
	Destination string
	Source      string // the caller's address
	Transport   string // leg A's transport
	Trunk       string // the trunk the call came from, if any
	State       string // "ringing" or "up"
	Start       time.Time
	Answer      time.Time // zero until answered
	Target      string    // leg B's target, once bridged
	CodecA      string    // once answered
	CodecB      string    // once bridged
}

// Calls returns the calls in progress, oldest first.
func (e *Engine) Calls() []CallSnapshot {
	e.mu.Lock()
	calls := make([]*Call, 0, len(e.active))
	for _, c := range e.active {
		calls = append(calls, c)
	}
	e.mu.Unlock()
	out := make([]CallSnapshot, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.snapshot())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func (c *Call) snapshot() CallSnapshot {
	c.mu.Lock()
	cdr := c.cdr
	c.mu.Unlock()
	return CallSnapshot{ID: c.info.ID, Caller: c.info.Caller, Destination: c.info.Destination, Source: c.info.Source,
		Transport: c.info.Transport, Trunk: c.info.Trunk, State: cdr.State, Start: cdr.Start, Answer: cdr.Answer,
		Target: cdr.Target, CodecA: cdr.CodecA, CodecB: cdr.CodecB}
}

// Hangup ends the call id for an operator: both legs are released (BYE,
// or a final response before the answer) with cause, and the CDR's
// cause is CauseAdmin. It returns at once; the call ends on its goroutine.
func (e *Engine) Hangup(id string, cause leg.Cause) error {
	e.mu.Lock()
	c := e.active[id]
	e.mu.Unlock()
	if c == nil {
		return fmt.Errorf("call %q: %w", id, ErrNoSuchCall)
	}
	c.mu.Lock()
	if c.admin == nil {
		c.admin = &cause
	}
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil { // nil: run has not started and will see c.admin
		cancel(errAdminHangup)
	}
	c.log.Info("call hung up by an operator", "cause", cause.Name)
	return nil
}

// adminHangupA releases leg A for Engine.Hangup, when an operator asked
// and the call did not end otherwise first.
func (c *Call) adminHangupA() {
	c.mu.Lock()
	admin := c.admin
	c.mu.Unlock()
	if admin == nil || c.ended {
		return
	}
	cause := *admin
	if !c.answered && cause.SIP == 0 {
		cause = leg.Unavailable // before the answer a hangup is a final response: it needs a status
	}
	c.hangupA(cause, "admin")
	c.mu.Lock()
	c.cdr.Cause = CauseAdmin
	c.mu.Unlock()
}
