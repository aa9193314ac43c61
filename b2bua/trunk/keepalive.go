package trunk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// keepaliveLoop sends OPTIONS every interval and marks the trunk up or
// down by the answer: any response but 408 or a 5xx/6xx means the carrier
// is there (a 404 or 405 still proves it listens, as Kamailio's dispatcher
// can be told); silence or a transport error means down.
func (t *Trunk) keepaliveLoop(ctx context.Context) {
	every := t.cfg.interval()
	for {
		t.resolve(ctx)
		pctx, cancel := context.WithTimeout(ctx, min(every, 5*time.Second))
		up, reason := t.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		t.setReach(up, reason)
		if !sleep(ctx, every) {
			return
		}
	}
}

// probe sends one OPTIONS.
func (t *Trunk) probe(ctx context.Context) (bool, string) {
	c := &t.cfg
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port})
	req.SetTransport(strings.ToUpper(c.Transport))
	req.SetDestination(t.hostPort())
	t.opt.Prepare(req)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "softswitch", Host: t.opt.FromHost}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: c.Host, Port: c.Port}})
	req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res, err := t.opt.Client.Do(ctx, req)
	switch {
	case err != nil && ctx.Err() != nil:
		return false, "no answer to OPTIONS"
	case err != nil:
		return false, "OPTIONS not sent: " + err.Error()
	case res.StatusCode == 408 || res.StatusCode >= 500:
		return false, fmt.Sprintf("OPTIONS answered %d %s", res.StatusCode, res.Reason)
	}
	return true, ""
}
