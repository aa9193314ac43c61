package sipleg

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
)

// sendFunc sends an in-dialog request and returns its final response.
type sendFunc func(ctx context.Context, req *sip.Request) (*sip.Response, error)

// onRefer answers a REFER on this leg's dialog (RFC 3515): 400 for an
// unusable Refer-To, 481 when the leg has ended, else 202 Accepted; the
// call then reports the transfer's progress through the event's Notifier.
func (l *core) onRefer(req *sip.Request, tx sip.ServerTransaction, target sip.Uri, send sendFunc) {
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		l.log.Info("REFER refused: it needs exactly one Refer-To", "refer_to", len(hs))
		l.m.srv.Reply(req, tx, 400, "Bad Request", "Warning", `399 softswitch "exactly one Refer-To is required"`)
		return
	}
	rt, err := parseReferTo(hs[0].Value())
	if err != nil {
		l.log.Info("REFER refused", "error", err)
		l.m.srv.Reply(req, tx, 400, "Bad Request", "Warning", `399 softswitch "`+sanitizeWarning(err.Error())+`"`)
		return
	}
	by := ""
	if h := req.GetHeader("Referred-By"); h != nil {
		if s, err := addrSpec(h.Value()); err == nil {
			var u sip.Uri
			if sip.ParseUri(strings.SplitN(s, "?", 2)[0], &u) == nil {
				by = u.User
			}
		}
	}
	if by == "" && req.From() != nil {
		by = req.From().Address.User
	}
	n := &notifier{send: send, target: target, id: req.CSeq().SeqNo, log: l.log}
	ev := leg.Event{Kind: leg.EventRefer, Refer: &leg.Refer{Target: rt.user, URI: rt.uri, ReferredBy: by, Replaces: rt.replaces, Notifier: n}}
	if !l.emitRefer(ev) {
		l.m.srv.Reply(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.log.Info("REFER accepted", "refer_to", rt.uri, "referred_by", by, "attended", rt.replaces != nil)
	l.m.srv.Reply(req, tx, 202, "Accepted")
}

// emitRefer queues a REFER event; false when the leg has ended or its
// queue is full (the REFER is then refused).
func (l *core) emitRefer(ev leg.Event) bool { return l.emitEvent(ev, false) }

// notifier sends the NOTIFYs of a REFER's implicit subscription
// (Event: refer;id=<CSeq of the REFER>, a message/sipfrag body).
type notifier struct {
	send   sendFunc
	target sip.Uri
	id     uint32
	log    *slog.Logger
}

// Notify sends "SIP/2.0 code reason"; a final code terminates the
// subscription.
func (n *notifier) Notify(ctx context.Context, code int, reason string) error {
	req := sip.NewRequest(sip.NOTIFY, *n.target.Clone())
	req.AppendHeader(sip.NewHeader("Event", "refer;id="+strconv.FormatUint(uint64(n.id), 10)))
	state := "active;expires=60"
	if code >= 200 {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(sipfrag(code, reason)))
	res, err := n.send(ctx, req)
	if err != nil {
		return fmt.Errorf("notify %d: %w", code, err)
	}
	n.log.Info("transfer progress notified", "sipfrag", code, "answer", res.StatusCode)
	if !res.IsSuccess() {
		return fmt.Errorf("notify %d: answered %d %s", code, res.StatusCode, res.Reason)
	}
	return nil
}

// sipfrag is the status line a NOTIFY carries.
func sipfrag(code int, reason string) string {
	if reason == "" {
		reason = "Status"
	}
	return "SIP/2.0 " + strconv.Itoa(code) + " " + sanitizeWarning(reason) + "\r\n"
}
