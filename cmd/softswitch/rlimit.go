package main

import (
	"fmt"
	"log/slog"
	"syscall"

	"github.com/softswitch/softswitch/b2bua/sipserver"
)

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit (every
// connection, RTP socket and database file is a descriptor) and returns
// the limit now in force.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("getrlimit nofile: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			return lim.Cur, fmt.Errorf("setrlimit nofile %d: %w", lim.Max, err)
		}
		lim = raised
	}
	return lim.Cur, nil
}

// connLimits fills in the connection ceiling from the descriptor limit:
// half of it, leaving the rest to RTP sockets, the database and files, so
// that a flood of connections meets the ceiling before accept meets EMFILE.
func connLimits(c sipserver.ConnLimits, log *slog.Logger) sipserver.ConnLimits {
	nofile, err := raiseFileLimit()
	if err != nil {
		log.Warn("could not raise the open-file limit", "error", err)
	}
	ceiling := max(int(min(nofile/2, 1<<30)), 1)
	switch {
	case nofile == 0:
	case c.Max == 0:
		c.Max = ceiling
	case c.Max > ceiling:
		log.Warn("connections.max is above half the open-file limit: a flood can exhaust descriptors",
			"max", c.Max, "nofile", nofile)
	}
	shown := c.WithDefaults() // the values in force, not zeros for "default"
	log.Info("connection limits", "nofile", nofile, "max", shown.Max, "per_source", shown.PerSource,
		"idle_timeout", shown.IdleTimeout, "handshake_timeout", shown.HandshakeTimeout)
	return c
}
