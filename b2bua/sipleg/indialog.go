package sipleg

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/sipheader"
	"github.com/softswitch/softswitch/media"
)

// answerReinvite answers a re-INVITE or UPDATE on one leg with that leg's
// own endpoint: hold, resume, an address change or a session refresh never
// reaches the other leg (the leg reports hold and resume as events). It
// returns our SDP after the exchange, and whether an offer was taken.
func answerReinvite(m *Manager, ep media.Endpoint, current []byte, req *sip.Request, tx sip.ServerTransaction, log *slog.Logger) ([]byte, bool) {
	sdp := current
	took := false
	if body := req.Body(); len(body) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ans, err := ep.Answer(ctx, body)
		cancel()
		if err != nil {
			refuseSDP(m, req, tx, err, log)
			return current, false
		}
		sdp, took = ans, true
	}
	var res *sip.Response
	switch {
	case len(req.Body()) == 0 && req.Method == sip.UPDATE:
		// A refresh without an offer (RFC 3311): no SDP in the answer either.
		res = sip.NewResponseFromRequest(req, 200, "OK", nil)
	default:
		// An answer to the offer, or, for an SDP-less re-INVITE, our offer:
		// the session as it stands.
		res = sip.NewSDPResponseFromRequest(req, sdp)
	}
	c := m.contact(req.Transport())
	res.AppendHeader(&c)
	if se := sipheader.Get(req, "Session-Expires"); se != nil {
		// RFC 4028: accept the peer's interval; it refreshes unless it said otherwise.
		v := se.Value()
		if !strings.Contains(v, "refresher=") {
			v += ";refresher=uac"
		}
		res.AppendHeader(sip.NewHeader("Session-Expires", v))
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
	m.srv.Respond(tx, res)
	return sdp, took
}

// handleInfo turns SIP INFO DTMF (application/dtmf-relay as Cisco and
// JsSIP send it, or application/dtmf) into a digit event.
func handleInfo(m *Manager, req *sip.Request, tx sip.ServerTransaction, emit func(leg.Event)) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	digit, dur, ok := parseDTMFInfo(ct, string(req.Body()))
	if !ok {
		if strings.HasPrefix(ct, "application/dtmf") {
			m.srv.Reply(req, tx, 400, "Bad Request", "Warning", `399 softswitch "unreadable DTMF body"`)
			return
		}
		m.srv.Reply(req, tx, 415, "Unsupported Media Type", "Accept", "application/dtmf-relay, application/dtmf")
		return
	}
	m.srv.Reply(req, tx, 200, "OK")
	emit(leg.Event{Kind: leg.EventDTMF, Digit: digit, Duration: dur})
}

// parseDTMFInfo reads "Signal=5\r\nDuration=160" (dtmf-relay) or "5" (dtmf).
func parseDTMFInfo(contentType, body string) (rune, time.Duration, bool) {
	dur := 100 * time.Millisecond
	var sig string
	switch {
	case strings.HasPrefix(contentType, "application/dtmf-relay"):
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "signal":
				sig = strings.TrimSpace(v)
			case "duration":
				if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms > 0 && ms < 10000 {
					dur = time.Duration(ms) * time.Millisecond
				}
			}
		}
	case strings.HasPrefix(contentType, "application/dtmf"):
		sig = strings.TrimSpace(body)
	default:
		return 0, 0, false
	}
	if len(sig) != 1 {
		if n, err := strconv.Atoi(sig); err == nil && n >= 10 && n <= 15 { // event codes as numbers
			return rune("*#ABCD"[n-10]), dur, true
		}
		return 0, 0, false
	}
	r := rune(strings.ToUpper(sig)[0])
	if r >= '0' && r <= '9' || r == '*' || r == '#' || r >= 'A' && r <= 'D' {
		return r, dur, true
	}
	return 0, 0, false
}

func (l *core) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	handleInfo(l.m, req, tx, l.emit)
}
