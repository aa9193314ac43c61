package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/softswitch/softswitch/dialplan"
)

// preflight runs the checks of `serve` that can fail, before anything is
// created: the dialplan compiles, the certificate loads, the data
// directory can be made, the log file can be written, the listen
// addresses are free.
func preflight(cfg Config) error {
	if cfg.Dialplan != "" {
		if err := dialplan.Check(cfg.Dialplan); err != nil {
			return fmt.Errorf("%w (nothing was created; pass --dialplan or a --config naming it)", err)
		}
	}
	if cfg.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return fmt.Errorf("tls certificate: %w (nothing was created)", err)
		}
	}
	if err := checkDataDir(cfg.Data); err != nil {
		return err
	}
	if err := checkLogFile(cfg.LogFile); err != nil {
		return err
	}
	return checkListen(cfg)
}

// checkDataDir: an existing directory, or one whose nearest existing
// parent is a directory we may write in.
func checkDataDir(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if errors.Is(err, fs.ErrNotExist) && d != filepath.Dir(d) {
			continue
		}
		if err != nil {
			return fmt.Errorf("data directory %s: %w (nothing was created)", dir, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("data directory %s: %s is not a directory (nothing was created)", dir, d)
		}
		if d != filepath.Clean(dir) && !writable(d) {
			return fmt.Errorf("data directory %s: cannot create it in %s: permission denied (nothing was created; pass --data)", dir, d)
		}
		return nil
	}
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".softswitch-check-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// checkListen binds each fixed TCP/UDP listen address once and lets it go:
// a port in use is reported before the database is created (a race with
// another program remains possible, and is then reported at listen).
func checkListen(cfg Config) error {
	var lc net.ListenConfig
	ctx := context.Background()
	try := func(key, network, addr string) error {
		if addr == "" {
			return nil
		}
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" {
			return nil
		}
		var c io.Closer
		var err error
		if network == "udp" {
			c, err = lc.ListenPacket(ctx, network, addr)
		} else {
			c, err = lc.Listen(ctx, network, addr)
		}
		if err != nil {
			return fmt.Errorf("%s: %w (nothing was created)", key, err)
		}
		return c.Close()
	}
	for _, a := range []struct{ key, network, addr string }{{"sip", "udp", cfg.SIP}, {"sip", "tcp", cfg.SIP},
		{"sip_tls", "tcp", cfg.SIPTLS}, {"https", "tcp", cfg.HTTPS}, {"ws", "tcp", cfg.WS},
		{"metrics", "tcp", cfg.Metrics}, {"pprof", "tcp", cfg.Pprof}} {
		if err := try(a.key, a.network, a.addr); err != nil {
			return err
		}
	}
	return nil
}
