package sipleg

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/b2bua/ratelog"
	"github.com/softswitch/softswitch/b2bua/trunk"
)

// Trunks are the configured carriers.
type Trunks interface {
	// Route returns a trunk's configuration for an outbound call.
	Route(name string) (trunk.Config, error)
	// Identify returns the trunk a request from src over transport
	// belongs to.
	Identify(transport string, src netip.AddrPort) (string, bool)
}

// SetTrunks sets the carriers calls can come from and go to.
func (m *Manager) SetTrunks(t Trunks) { m.trunks = t }

// fromTrunk returns the trunk that sent req, by its source address,
// port and transport.
func (m *Manager) fromTrunk(req *sip.Request) (trunk.Config, bool) {
	if m.trunks == nil {
		return trunk.Config{}, false
	}
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return trunk.Config{}, false
	}
	name, ok := m.trunks.Identify(req.Transport(), ap)
	if !ok {
		return trunk.Config{}, false
	}
	cfg, err := m.trunks.Route(name)
	return cfg, err == nil
}

// didOf is the number a carrier's call is for: the Request-URI user, or
// the To user when the Request-URI is just our registered contact.
func didOf(req *sip.Request, t trunk.Config) string {
	if u := req.Recipient.User; u != "" && u != t.ContactUser {
		return u
	}
	if to := req.To(); to != nil && to.Address.User != "" {
		return to.Address.User
	}
	return req.Recipient.User
}

// trunkBranch resolves "trunk/NAME/NUMBER".
func (m *Manager) trunkBranch(target string) (branch, error) {
	rest := strings.TrimPrefix(target, "trunk/")
	name, number, ok := strings.Cut(rest, "/")
	if !ok || name == "" || !validNumber(number) {
		return branch{}, &leg.Error{Cause: leg.NotFound, Detail: "bad trunk target " + target + ": want trunk/NAME/NUMBER"}
	}
	if m.trunks == nil {
		return branch{}, &leg.Error{Cause: leg.NotFound, Detail: "no trunks configured"}
	}
	cfg, err := m.trunks.Route(name)
	if err != nil {
		return branch{}, &leg.Error{Cause: leg.NotFound, Detail: err.Error()}
	}
	ruri := sip.Uri{Scheme: "sip", User: number, Host: cfg.Host, Port: cfg.Port}
	if cfg.Transport != "udp" {
		ruri.UriParams = sip.NewParams()
		ruri.UriParams.Add("transport", cfg.Transport)
	}
	dest := ruri.HostPort()
	return branch{ruri: ruri, dest: dest, transport: cfg.Transport, toUser: number, trunk: &cfg}, nil
}

// validNumber accepts what carriers route: digits with an optional
// leading +, and the * and # of service codes.
func validNumber(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return true
}

// external tells whether a target leaves the switch (and may cost money).
func external(target string) bool {
	return strings.HasPrefix(target, "trunk/") || strings.HasPrefix(target, "sip:")
}

// newSourceLog logs an event once per source a minute, with how many
// times it happened since the last line, its values truncated: a flood
// makes one short line a minute per source (package ratelog).
func newSourceLog(log *slog.Logger, msg string) *ratelog.Event {
	return ratelog.NewEvent(log, slog.LevelWarn, time.Minute, msg)
}
