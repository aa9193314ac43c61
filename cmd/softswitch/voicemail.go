package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/b2bua/mwi"
	"github.com/softswitch/softswitch/b2bua/registrar"
	"github.com/softswitch/softswitch/b2bua/sipleg"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/voicemail"
)

// startVoicemail gives calls their mailboxes (under the data directory)
// and serves message-summary subscriptions (SUBSCRIBE) for the lamps.
func startVoicemail(cfg Config, host string, srv *sipserver.Server, st *store.Store, authn *registrar.Authenticator,
	reg *registrar.Registrar, legs *sipleg.Manager, engine *b2bua.Engine, log *slog.Logger) *mwi.Server {
	boxes := voicemail.New(st, cfg.Data, nil, log)
	m := mwi.New(mwi.Config{Host: host, Unsolicited: cfg.MWI.Unsolicited, Bindings: reg, Prepare: legs.FromListener,
		Contact: legs.Contact}, boxes, authn, srv, legs.Client(), log)
	boxes.SetNotifier(m)
	engine.SetVoicemail(boxes)
	srv.Handle(sip.SUBSCRIBE, m.HandleSubscribe)
	go m.Run(context.Background()) // ends with Close
	return m
}

// voicemailCmd implements `softswitch voicemail list EXT`.
func voicemailCmd(ctx context.Context, args []string, stdout io.Writer) error {
	_, rest, err := subcommand(stdout, "voicemail", map[string]string{"list": "an extension's messages"}, []string{"list"}, args)
	if err != nil {
		return err
	}
	c := newCommand(stdout, "voicemail list", "EXT", "List the voicemail messages of EXT: id, time, caller, duration, new or heard, file.")
	data := c.dataFlag()
	db := c.dbFlag()
	pos, err := c.parseN(rest, "EXT")
	if err != nil {
		return err
	}
	ext := pos[0]
	if !extPattern.MatchString(ext) {
		return usageError(fmt.Sprintf("voicemail list: %q is not a valid extension", ext))
	}
	st, err := openExistingStore(ctx, *data, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	msgs, err := st.Voicemails(ctx, ext)
	if err != nil {
		return fmt.Errorf("voicemail list: %w", err)
	}
	writeVoicemails(stdout, msgs, *data)
	return nil
}

// writeVoicemails prints one line per message: id, time, caller, duration,
// new or heard, and the file.
func writeVoicemails(w io.Writer, msgs []store.Voicemail, data string) {
	fmt.Fprintf(w, "%-6s %-20s %-16s %8s %-5s %s\n", "ID", "TIME", "CALLER", "DURATION", "STATE", "FILE")
	for _, m := range msgs {
		state := "new"
		if m.Heard {
			state = "heard"
		}
		fmt.Fprintf(w, "%-6d %-20s %-16s %8s %-5s %s\n", m.ID, m.Created.Local().Format("2006-01-02 15:04:05"),
			dash(m.Caller), m.Duration.Round(100*time.Millisecond), state, filepath.Join(data, m.Path))
	}
}
