package b2bua

import (
	"context"
	"fmt"
)

// maxRedirects bounds call:transfer within call:transfer.
const maxRedirects = 4

// ReferredBy is "" for a call dialled directly (dialplan.Transferer).
func (c *Call) ReferredBy() string { return "" }

// Transfer runs the dialplan again for target with call.referred_by set
// to the number called: a blind transfer of the caller from the dialplan
// (call:transfer in an IVR). It returns when that run is over.
func (c *Call) Transfer(ctx context.Context, target string) error {
	return c.redirect(ctx, target, c.info.Destination, 1)
}

func (c *Call) redirect(ctx context.Context, target, by string, depth int) error {
	if err := c.gone(ctx); err != nil {
		return err
	}
	if depth > maxRedirects {
		return fmt.Errorf("transfer to %q: more than %d transfers in a row", target, maxRedirects)
	}
	c.log.Info("transfer by the dialplan", "target", target, "referred_by", by)
	if err := c.e.dp.Run(ctx, &redirectSession{Call: c, dest: target, by: by, depth: depth}); err != nil {
		return fmt.Errorf("transfer to %q: %w", target, err)
	}
	return nil
}

// redirectSession is the dialplan run of call:transfer: the same call
// with another destination.
type redirectSession struct {
	*Call
	dest, by string
	depth    int
}

func (r *redirectSession) Destination() string { return r.dest }
func (r *redirectSession) ReferredBy() string  { return r.by }
func (r *redirectSession) Transfer(ctx context.Context, target string) error {
	return r.redirect(ctx, target, r.dest, r.depth+1)
}
