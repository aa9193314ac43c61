package b2bua

import (
	"context"

	"github.com/softswitch/softswitch/b2bua/leg"
)

// Video between two browser legs (issue 17): the callee's branch is
// offered the caller's video codecs, the caller's answer accepts those the
// callee accepted, and the bridge relays the packets both ways, undecoded.
// A leg that cannot carry video (a desk phone, a trunk) is offered audio
// only, and the caller's video is then declined (port 0).

// videoOffered lists the video codecs l's peer offered, nil for none.
func videoOffered(l leg.Leg) []string {
	if v, ok := l.(leg.Video); ok {
		return v.VideoCodecs()
	}
	return nil
}

// acceptVideo lets the caller's answer accept the video the callee b
// accepted, before the call is answered. Without video on b the caller's
// video stays declined.
func (c *Call) acceptVideo(ctx context.Context, b leg.Leg) {
	va, ok := c.a.(leg.Video)
	if !ok || len(va.VideoCodecs()) == 0 {
		return
	}
	codecs := videoOffered(b)
	if len(codecs) == 0 {
		c.log.Info("video declined: the callee takes audio only")
		return
	}
	if err := va.AcceptVideo(ctx, codecs); err != nil {
		c.log.Info("video declined", "error", err)
		return
	}
	c.log.Info("video relayed", "codecs", codecs)
}

// relayVideo relays video between a and b when both carry it; the
// returned func stops it.
func relayVideo(a, b leg.Leg) func() {
	va, okA := a.(leg.Video)
	vb, okB := b.(leg.Video)
	if !okA || !okB {
		return func() {}
	}
	va.RelayVideo(vb)
	vb.RelayVideo(va)
	return func() {
		va.RelayVideo(nil)
		vb.RelayVideo(nil)
	}
}
