package main

import (
	"log/slog"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/message"
	"github.com/softswitch/softswitch/b2bua/registrar"
	"github.com/softswitch/softswitch/b2bua/sipleg"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/store"
)

// startMessages serves MESSAGE between extensions and trunks and delivers stored
// messages after a REGISTER. It must run before the listeners open (it
// replaces the REGISTER handler).
func startMessages(cfg Config, host string, srv *sipserver.Server, st *store.Store, authn *registrar.Authenticator,
	reg *registrar.Registrar, legs *sipleg.Manager, plan message.Dialplan, log *slog.Logger) *message.Service {
	noStore := cfg.Messages.Store != nil && !*cfg.Messages.Store
	m := message.New(message.Config{Host: host, NoStore: noStore, MaxBody: cfg.Messages.MaxBody,
		Prepare: legs.FromListener, Contact: legs.Contact, Dialplan: plan, Trunks: legs}, authn, srv, legs.Client(), reg, st, log)
	srv.Handle(sip.MESSAGE, m.HandleMessage)
	srv.Handle(sip.REGISTER, m.AfterRegister(reg.HandleRegister))
	return m
}
