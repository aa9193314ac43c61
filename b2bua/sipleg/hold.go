package sipleg

import (
	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media"
)

// noteHold reads an offer the peer sent in a re-INVITE or UPDATE that we
// accepted and reports a change of its hold state as EventHold or
// EventResume, so the call can play music on hold to the other party.
func (l *core) noteHold(offer []byte) {
	held, err := media.HoldOf(offer)
	if err != nil {
		l.log.Debug("re-INVITE offer unreadable for hold", "error", err) // the endpoint took it
		return
	}
	l.mu.Lock()
	changed := held != l.held
	l.held = held
	l.mu.Unlock()
	if !changed {
		return
	}
	kind := leg.EventResume
	if held {
		kind = leg.EventHold
	}
	l.log.Info("peer hold", "held", held)
	l.emit(leg.Event{Kind: kind})
}
