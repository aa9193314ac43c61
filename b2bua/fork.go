package b2bua

import (
	"context"
	"time"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media"
)

// lateHangupTimeout bounds the BYE to a branch that answered too late.
const lateHangupTimeout = 10 * time.Second

// branchResult is how one branch of a fork ended.
type branchResult struct {
	l      leg.Leg
	err    error
	target string // the dialplan target the branch belongs to
	branch string // the branch itself, for logs
}

// fork is every branch of a bridge ringing in parallel: all the devices
// and addresses of all its targets. It is used by the call's owner
// goroutine only; the branches report on results.
type fork struct {
	results chan branchResult // buffered for every branch: a branch never blocks
	pending int               // branches that have not reported yet
	causes  []leg.Cause       // why each failed target or branch failed
}

// startFork resolves targets and rings every branch under ctx. A target
// that cannot be resolved (unknown, unregistered, not allowed) adds its
// cause at once.
func (c *Call) startFork(ctx context.Context, targets []string, opts leg.DialOptions) *fork {
	type resolved struct {
		target   string
		branches []leg.Branch
	}
	var all []resolved
	n := 0
	f := &fork{}
	for _, t := range targets {
		bs, err := c.e.dialer.Resolve(ctx, t, opts)
		if err != nil {
			f.causes = append(f.causes, c.branchFailed(ctx, branchResult{err: err, target: t}))
			continue
		}
		all = append(all, resolved{t, bs})
		n += len(bs)
	}
	f.results = make(chan branchResult, n)
	f.pending = n
	for _, r := range all {
		for _, b := range r.branches {
			go func(target string, b leg.Branch) {
				l, err := b.Dial(ctx, opts)
				f.results <- branchResult{l: l, err: err, target: target, branch: b.String()}
			}(r.target, b)
		}
	}
	return f
}

// branchFailed logs why a target or one of its branches failed and
// returns the cause: giving up at the ring timeout is no answer.
func (c *Call) branchFailed(dctx context.Context, r branchResult) leg.Cause {
	cause := leg.CauseOf(r.err)
	if cause == leg.Cancelled && dctx.Err() == context.DeadlineExceeded {
		cause = leg.NoAnswer
	}
	c.log.Info("bridge target failed", "target", r.target, "branch", r.branch, "cause", cause.Name, "error", r.err)
	c.setTarget(r.target, "")
	return cause
}

// ring waits for the first branch to answer, for every branch to fail, or
// for dctx to end (the ring timeout, or the caller hung up), relaying
// progress to the caller meanwhile. It returns the answering branch, if
// any, and the early media last bridged to the caller.
func (c *Call) ring(ctx, dctx context.Context, f *fork, progress <-chan leg.Progress, timeout time.Duration) (*branchResult, media.Endpoint) {
	var early media.Endpoint
	for f.pending > 0 {
		select {
		case r := <-f.results:
			f.pending--
			if r.err == nil {
				return &r, early
			}
			f.causes = append(f.causes, c.branchFailed(dctx, r))
		case p := <-progress:
			c.onProgress(ctx, p, &early)
		case p := <-c.pickups:
			if r := c.pickedUp(ctx, p); r != nil {
				return r, early
			}
		case <-dctx.Done():
			f.causes = append(f.causes, leg.NoAnswer)
			if ctx.Err() == nil {
				c.log.Info("bridge timed out", "timeout", timeout)
			}
			return nil, early
		}
	}
	return nil, early
}

// hangUpLate collects, in the background, the branches still ringing
// after the fork was decided (their context is cancelled by then): one
// that answers anyway (a 200 crossing our CANCEL) is hung up. A branch
// that never sent a provisional response can take until SIP timer B
// (32 s) to give up; the Engine's Shutdown waits for these.
func (e *Engine) hangUpLate(f *fork) {
	n := f.pending
	f.pending = 0
	if n == 0 {
		return
	}
	e.late.Add(1)
	go func() {
		defer e.late.Done()
		for i := 0; i < n; i++ {
			if r := <-f.results; r.err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), lateHangupTimeout)
				_ = r.l.Hangup(ctx, leg.Normal)
				cancel()
			}
		}
	}()
}
