package sipleg

import (
	"errors"
	"log/slog"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media"
)

// negotiationStatus is the SIP status for an SDP offer or answer a leg's
// endpoint could not negotiate: 488 Not Acceptable Here when the peer's
// SDP has nothing we can use (media.ErrNoCommonCodec: no codec in common,
// no audio stream; media.ErrBadSDP: SDP that does not parse or does not
// hold together; an offer kindForOffer could not use), 500 for anything
// else, which is our failure (no port, a closed endpoint, a pion error).
// Every endpoint wraps the media package's sentinels.
func negotiationStatus(err error) int {
	if errors.Is(err, media.ErrNoCommonCodec) || errors.Is(err, media.ErrBadSDP) || errors.Is(err, errUnusableOffer) {
		return 488
	}
	return 500
}

// negotiationCause is negotiationStatus as the cause of a failed leg.
func negotiationCause(err error) leg.Cause {
	return leg.CauseFromSIP(negotiationStatus(err), "")
}

// refuseSDP answers req, whose SDP our endpoint could not negotiate: 488
// with a Warning saying why, or 500 with the reason logged only.
func refuseSDP(m *Manager, req *sip.Request, tx sip.ServerTransaction, err error, log *slog.Logger) {
	if code := negotiationStatus(err); code == 488 {
		log.Info("SDP offer refused", "method", req.Method, "error", err)
		m.srv.Reply(req, tx, 488, "Not Acceptable Here", "Warning", `399 softswitch "`+sanitizeWarning(err.Error())+`"`)
		return
	}
	log.Warn("SDP offer failed", "method", req.Method, "error", err)
	m.srv.Reply(req, tx, 500, "Server Internal Error")
}
