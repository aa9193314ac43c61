package sipleg

// pickupOf reads the Replaces header of a new INVITE (RFC 3891): it must
// name a branch of ours that is ringing (directed call pickup). It
// returns the ID of that branch's call, or the status refusing the
// INVITE (400 unreadable, 481 no such ringing branch) and why.
func (m *Manager) pickupOf(replaces string) (string, int, string) {
	r, err := parseReplaces(replaces)
	if err != nil {
		return "", 400, "unreadable Replaces"
	}
	ol, ok := m.dialog(r.CallID).(*outLeg)
	if !ok {
		return "", 481, "Replaces names no call ringing here"
	}
	ol.mu.Lock()
	defer ol.mu.Unlock()
	if ol.confirmed || ol.ended {
		return "", 481, "Replaces names a call no longer ringing"
	}
	return ol.call, 0, ""
}

// sipReason is the reason phrase of the statuses pickupOf returns.
func sipReason(code int) string {
	if code == 400 {
		return "Bad Request"
	}
	return "Call/Transaction Does Not Exist"
}
