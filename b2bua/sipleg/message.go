package sipleg

import (
	"context"
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// TrunkOf tells whether req comes from a carrier (recognised by its
// source address, like a carrier's INVITE): the trunk's name and the DID
// the request is for.
func (m *Manager) TrunkOf(req *sip.Request) (name, did string, ok bool) {
	t, ok := m.fromTrunk(req)
	if !ok {
		return "", "", false
	}
	return t.Name, didOf(req, t), true
}

// TrunkMessage sends a MESSAGE (RFC 3428) out through the trunk of target
// "trunk/NAME/NUMBER": to the carrier's host, port and transport, from
// caller presented as on calls (From at the carrier's host,
// P-Asserted-Identity), answering the carrier's 401/407 with the trunk's
// credentials. It returns the carrier's final status; an error when the
// target names no trunk or the carrier did not answer (or refused the
// credentials).
func (m *Manager) TrunkMessage(ctx context.Context, target, caller, callerName, contentType string, body []byte) (int, error) {
	if !strings.HasPrefix(target, "trunk/") {
		return 404, errors.New("not a trunk target: " + target)
	}
	b, err := m.trunkBranch(target)
	if err != nil {
		return 404, err
	}
	req := sip.NewRequest(sip.MESSAGE, b.ruri)
	req.SetTransport(strings.ToUpper(b.transport))
	req.SetDestination(b.dest)
	m.FromListener(req)
	present(req, b, caller, callerName, b.trunk.Host)
	if contentType != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	res, err := b.trunk.Do(ctx, m.client, req)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return 408, err
	case err != nil:
		return 503, err
	}
	return res.StatusCode, nil
}
