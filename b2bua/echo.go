package b2bua

import (
	"context"
	"fmt"
	"time"

	"github.com/softswitch/softswitch/dialplan"
)

var _ dialplan.Echoer = (*Call)(nil)

// Echo answers the call and links leg A's audio to its own sink (a bridge
// to itself) until the caller hangs up or d passes (see dialplan.Echoer).
func (c *Call) Echo(ctx context.Context, d time.Duration) error {
	if err := c.gone(ctx); err != nil {
		return err
	}
	if err := c.Answer(ctx); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	link(c.a, c.gateA)
	defer c.a.SetAudioOutput(discard{rate: c.a.AudioSink().Rate()})
	c.log.Info("echo started", "bound", d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		c.log.Info("echo ended: bound reached")
		return nil
	case <-ctx.Done():
		return c.gone(ctx)
	}
}
