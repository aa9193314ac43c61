package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/softswitch/softswitch/b2bua/auth"
	"github.com/softswitch/softswitch/b2bua/registrar"
	"github.com/softswitch/softswitch/b2bua/sipleg"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/trunk"
	"github.com/softswitch/softswitch/metrics"
	"github.com/softswitch/softswitch/web"
)

// parseServeFlags resolves the configuration: defaults, then the file,
// then the flags given on the command line.
func parseServeFlags(args []string) (Config, error) {
	return parseServeArgs(args, io.Discard)
}

// parseServeArgs is parseServeFlags printing -h/--help to stdout.
func parseServeArgs(args []string, stdout io.Writer) (Config, error) {
	cfg := defaultConfig()
	c := newCommand(stdout, "serve", "", "Run the softswitch. Defaults, then the --config file (its relative paths resolve against its "+
		"directory), then the flags (relative to the working directory). Without a config no demo extensions are created.")
	fs := c.fs
	configPath := fs.String("config", "", "YAML configuration file")
	data := fs.String("data", "", "data directory (database, dev certificate)")
	sipAddr := fs.String("sip", "", "SIP UDP and TCP listen address")
	sipTLS := fs.String("sip-tls", "", "SIP TLS listen address")
	https := fs.String("https", "", "HTTPS listen address (web phone and WSS at /ws)")
	ws := fs.String("ws", "", "plain WebSocket listen address (/ws)")
	rtp := fs.String("rtp-ports", "", "RTP port range LO-HI")
	mediaIP := fs.String("media-ip", "", "address written into SDP and ICE candidates")
	dialplan := fs.String("dialplan", "", "Lua dialplan file")
	level := fs.String("log-level", "", "debug, info, warn or error")
	logFormat := fs.String("log-format", "", "log lines as text (key=value, the default) or json")
	logFile := fs.String("log-file", "", "append the log to this file instead of stderr (SIGUSR1 reopens it, for logrotate)")
	webrtcPort := fs.Int("webrtc-port", -1, "UDP port shared by all browser media (0: the OS chooses)")
	pprofAddr := fs.String("pprof", "", "serve Go profiles on this loopback host:port (off by default)")
	metrics := fs.String("metrics", "", "serve Prometheus metrics, /healthz and /readyz on host:port (off by default)")
	if _, err := c.parseN(args); err != nil {
		return cfg, err
	}
	if *configPath != "" {
		if err := loadConfigFile(&cfg, *configPath); err != nil {
			return cfg, err
		}
	}
	set := map[string]*string{"data": data, "sip": sipAddr, "sip-tls": sipTLS, "https": https, "ws": ws,
		"rtp-ports": rtp, "media-ip": mediaIP, "dialplan": dialplan, "log-level": level, "log-format": logFormat, "log-file": logFile, "pprof": pprofAddr, "metrics": metrics}
	dst := map[string]*string{"data": &cfg.Data, "sip": &cfg.SIP, "sip-tls": &cfg.SIPTLS, "https": &cfg.HTTPS, "ws": &cfg.WS,
		"rtp-ports": &cfg.RTPPorts, "media-ip": &cfg.MediaIP, "dialplan": &cfg.Dialplan, "log-level": &cfg.LogLevel,
		"log-format": &cfg.LogFormat, "log-file": &cfg.LogFile,
		"pprof": &cfg.Pprof, "metrics": &cfg.Metrics}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := set[f.Name]; ok {
			*dst[f.Name] = *v
		}
		if f.Name == "webrtc-port" {
			cfg.WebRTCPort = *webrtcPort
		}
	})
	return cfg, cfg.validate()
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q: want debug, info, warn or error", s)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseServeArgs(args, stdout)
	if err != nil {
		return err
	}
	// Every check that can fail before anything is created: a data
	// directory, a database or demo passwords printed once must not be
	// left behind by a start that then fails.
	if err := preflight(cfg); err != nil {
		return err
	}
	lvl, _ := parseLevel(cfg.LogLevel)
	level := new(slog.LevelVar) // `softswitch log-level` changes it
	level.Set(lvl)
	out, err := newLogOutput(cfg, stderr)
	if err != nil {
		return err
	}
	defer out.close() // last: everything before it may still log
	log := slog.New(out.handler(cfg.LogFormat, level))
	out.reopenOnSignal(log)
	// SIGHUP (systemctl reload) is caught from here on: during the start
	// its default action would end the process, as a clean exit systemd
	// does not restart. One sent before the server runs reloads it then.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if out.file != nil { // the error goes to stderr too (run prints it)
		defer func() {
			if err != nil {
				log.Error("softswitch stopped with an error", "error", err)
			}
		}()
	}
	// sipgo logs through its own default logger in places that take none;
	// quietened: its values truncated, its warnings rate-limited.
	sip.SetDefaultLogger(sipserver.QuietLogger(log))
	tuneGC(os.Getenv, log)

	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := openStore(ctx, cfg.Data, cfg.Database, cfg.Node)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := closeInterruptedCDRs(ctx, st, cfg.Data, log); err != nil {
		return err
	}
	realm, err := ensureRealm(ctx, st)
	if err != nil {
		return err
	}
	srv, err := sipserver.New(sipserver.Config{UserAgent: cfg.ServerHeader, MaxMessageSize: cfg.MaxMessageSize,
		RateLimit: cfg.RateLimit, Conns: connLimits(cfg.Connections, log)}, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	obs, err := startObservability(ctx, cfg, level, srv, st, log)
	if err != nil {
		return err
	}
	defer obs.close()
	verifier, err := auth.NewVerifier(auth.Config{Realm: realm, NonceTTL: cfg.Auth.NonceTTL, Algorithms: cfg.Auth.Algorithms})
	if err != nil {
		return err
	}
	ephemeral, err := auth.NewEphemeral(cfg.Auth.Ephemeral)
	if err != nil {
		return fmt.Errorf("auth.ephemeral: %w", err)
	}
	guard := auth.NewGuard(cfg.Guard, log)
	// Digest checks read users (their HA1s) from memory; `softswitch user
	// passwd|del` and `softswitch reload` empty the cache.
	proxies, err := cfg.proxyPrefixes()
	if err != nil {
		return err
	}
	isProxy := isProxyFunc(proxies)
	cacheTTL := time.Duration(0)
	authOpts := []registrar.Option{registrar.WithEphemeral(ephemeral)}
	var regOpts []registrar.RegistrarOption
	if isProxy != nil {
		// One of several nodes sharing a database: a user added on
		// another node is seen here within seconds.
		cacheTTL = 5 * time.Second
		authOpts = append(authOpts, registrar.WithProxies(isProxy))
		regOpts = append(regOpts, registrar.BehindProxies(isProxy))
		// Toward the proxy, a browser's INVITE (WebRTC SDP) can exceed
		// sipgo's 1300-byte UDP limit; proxy and nodes share a LAN.
		sip.UDPMTUSize = int(sip.TransportBufferReadSize)
		log.Info("behind proxies", "proxies", cfg.Proxies, "node", cfg.Node, "database", st.Driver())
	}
	users := store.NewUserCache(st, cacheTTL, 0)
	authn := registrar.NewAuthenticator(users, verifier, guard, srv, log, authOpts...)
	reg := registrar.New(cfg.Registrar, st, authn, srv, log, regOpts...)
	if err := reg.Restore(ctx); err != nil {
		return err
	}
	defer reg.Flush(context.WithoutCancel(ctx)) // before st.Close: the last refreshes reach the disk
	srv.OnConnClose(reg.ConnectionClosed)
	srv.Handle(sip.REGISTER, reg.HandleRegister)
	var calls *callCore
	met, err := obs.startMetrics(cfg, metrics.Sources{
		ActiveCalls:   func() int { return calls.engine.Active() },
		Registrations: reg.CountByTransport,
		Auth: func() (uint64, uint64, uint64) {
			c := guard.Counts()
			return c.Failures, c.Bans, c.Refused
		},
		RateLimited: srv.RateLimited,
		Trunks:      func() map[string]bool { return trunkUp(calls.trunks) },
	})
	if err != nil {
		return err
	}
	calls, err = startCalls(cfg, srv, st, users, authn, reg, met, obs, log)
	if err != nil {
		return err
	}
	calls.legs.SetBranchHook(obs.stories.Link) // before any call: a story joins its legs
	srv.SetStateless(statelessAnswers(authn, calls.legs))
	obs.importHistory(ctx, cfg.Data)
	defer obs.runKeeper(ctx)() // stopped after the calls ended (deferred calls run last in, first out)
	srv.OnConnCloseCode(obs.stories.ConnClosed)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go reg.Run(runCtx)

	https, err := startListeners(cfg, srv, log)
	if err != nil {
		return err
	}
	health := &health{srv: srv, st: st}
	if met != nil {
		ms, err := startMetrics(cfg.Metrics, met, health, log)
		if err != nil {
			return err
		}
		https = append(https, ms)
	}
	if cfg.Pprof != "" {
		ps, err := startPprof(cfg.Pprof, log)
		if err != nil {
			return err
		}
		https = append(https, ps)
	}
	// Trunks start once we listen: a carrier answers our REGISTER and
	// OPTIONS, and sends calls, to the addresses in our Contact.
	if _, err := calls.trunks.Apply(cfg.Trunks); err != nil {
		return fmt.Errorf("config: trunks: %w", err)
	}
	rl := newReloader(args, cfg, calls.trunks, log)
	rl.dialplan = calls.dialplan
	go rl.watch(runCtx)
	cmds := map[string]controlHandler{
		"reload": func([]string) (string, error) {
			users.ForgetAll()
			return rl.reloadAll(runCtx, "softswitch reload")
		},
		usersChanged: func([]string) (string, error) {
			users.ForgetAll()
			return "", nil
		},
		"trunk status": func([]string) (string, error) {
			var b strings.Builder
			err := trunk.WriteStatus(&b, calls.trunks.Status(), time.Now())
			return b.String(), err
		},
	}
	live := callsControl{engine: calls.engine, media: obs.media}
	cmds["calls"], cmds["calls hangup"] = live.list, live.hangup
	confControl{engine: calls.engine}.register(cmds)
	cmds["call show"] = callShow{keeper: obs.keeper, history: obs.stories.History(), media: obs.media, engine: calls.engine, store: st}.show
	streams := map[string]streamHandler{}
	obs.addCommands(cmds, streams)
	ctl, err := startControl(cfg.Data, cmds, streams, log)
	if err != nil {
		return err
	}
	defer ctl.close()
	// Last: demo passwords are printed once, for a server that runs.
	if cfg.DemoUsers {
		if err := createDemoUsers(ctx, st, realm, stdout); err != nil {
			return err
		}
		users.ForgetAll() // a REGISTER before they existed cached "no such user"
	}
	health.ready.Store(true)
	log.Info("softswitch running", "version", version, "realm", realm, "data", cfg.Data, "trunks", len(cfg.Trunks))
	return waitForSignal(ctx, cfg.DrainTimeout, hup, srv, calls, https, rl, log)
}

// startListeners opens every configured listener; any failure (a port in
// use, an unreadable certificate) is returned as one line.
func startListeners(cfg Config, srv *sipserver.Server, log *slog.Logger) ([]*http.Server, error) {
	if cfg.SIP != "" {
		addr, err := srv.ListenUDPAndTCP(cfg.SIP)
		if err != nil {
			return nil, err
		}
		log.Info("listening", "transport", "udp", "addr", addr)
		log.Info("listening", "transport", "tcp", "addr", addr)
	}
	var certs *certReloader
	if cfg.SIPTLS != "" || cfg.HTTPS != "" {
		certPath, keyPath := cfg.TLSCert, cfg.TLSKey
		if certPath == "" {
			var err error
			if certPath, keyPath, err = ensureDevCert(cfg.Data, log); err != nil {
				return nil, err
			}
		}
		var err error
		if certs, err = newCertReloader(certPath, keyPath, log); err != nil {
			return nil, err
		}
	}
	if cfg.SIPTLS != "" {
		addr, err := srv.ListenTLS(cfg.SIPTLS, certs.tlsConfig())
		if err != nil {
			return nil, err
		}
		log.Info("listening", "transport", "tls", "addr", addr)
	}
	var servers []*http.Server
	start := func(addr string, secure bool) error {
		raw, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		name, guardName := "ws", "http"
		if secure {
			name, guardName = "https", "https"
		}
		// Counted with SIP's stream connections (ceiling, per-source cap,
		// accept survives EMFILE), idle keep-alives closed like SIP's.
		l := srv.GuardHTTP(raw, guardName)
		mux := http.NewServeMux()
		mux.Handle("/ws", srv.WebSocketHandler(secure))
		mux.Handle("/", web.Handler(web.WithWebSocketURL(cfg.WebWSURL)))
		hs := &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       srv.HTTPIdleTimeout(),
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
			// HTTP/2 has no Hijack: WebSocket upgrades need HTTP/1.1.
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		}
		if secure {
			hs.TLSConfig = certs.tlsConfig()
			l = tls.NewListener(l, hs.TLSConfig)
		}
		go func() {
			if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http server stopped", "addr", addr, "error", err)
			}
		}()
		servers = append(servers, hs)
		log.Info("listening", "transport", name, "addr", l.Addr().String())
		return nil
	}
	if cfg.HTTPS != "" {
		if err := start(cfg.HTTPS, true); err != nil {
			return servers, err
		}
	}
	if cfg.WS != "" {
		if err := start(cfg.WS, false); err != nil {
			return servers, err
		}
	}
	return servers, nil
}

// waitForSignal runs until SIGTERM (drain: new requests get 503 while those
// in progress finish) or SIGINT (exit at once); each signal on hup reloads.
func waitForSignal(ctx context.Context, drain time.Duration, hup <-chan os.Signal, srv *sipserver.Server, calls *callCore, https []*http.Server, rl *reloader, log *slog.Logger) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	var sig os.Signal
wait:
	for {
		select {
		case <-hup:
			_, _ = rl.reload("SIGHUP") // logged
		case sig = <-sigs:
			break wait
		case <-ctx.Done():
			sig = syscall.SIGTERM
			break wait
		}
	}
	defer forceExitOnSignal(sigs, log)()
	if sig == syscall.SIGINT {
		log.Info("interrupted: exiting now")
		for _, h := range https {
			_ = h.Close()
		}
		// Calls are cut, but their CDRs are still written.
		cctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = calls.shutdown(cctx)
		return srv.Close()
	}
	log.Info("terminating: draining calls; new requests get 503", "calls", calls.engine.Active())
	srv.StartDrain()
	if drain <= 0 {
		drain = 30 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := calls.shutdown(sctx) // calls still up at the deadline get a BYE
	// The calls are over: what remains (their INVITE handlers returning,
	// idle connections) takes moments, whatever the drain time left.
	fctx, cancelFinal := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelFinal()
	err = errors.Join(err, srv.Shutdown(fctx))
	for _, h := range https {
		err = errors.Join(err, h.Shutdown(fctx))
	}
	log.Info("stopped")
	return err
}

// forceExitOnSignal exits the process at once on a further SIGINT or
// SIGTERM while the server stops (calls that will not end, a drain the
// operator does not want to wait for): the second Ctrl-C always works. It
// returns the function that disarms it and waits for its goroutine.
func forceExitOnSignal(sigs <-chan os.Signal, log *slog.Logger) func() {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				log.Warn("second signal: exiting without waiting for calls and CDRs", "signal", sig.String())
				os.Exit(1)
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

// createDemoUsers adds extensions 1000–1003 with random passwords the first
// time the server starts on a database, and prints them once.
func createDemoUsers(ctx context.Context, st *store.Store, realm string, stdout io.Writer) error {
	if _, err := st.Meta(ctx, "demo_users"); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("demo users: %w", err)
	}
	var lines []string
	for _, ext := range []string{"1000", "1001", "1002", "1003"} {
		if _, err := st.User(ctx, ext); err == nil {
			continue
		}
		pw, err := newPassword()
		if err != nil {
			return err
		}
		if err := addUser(ctx, st, realm, ext, "Demo "+ext, pw); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("  %s  %s", ext, pw))
	}
	if err := st.SetMeta(ctx, "demo_users", time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("demo users: %w", err)
	}
	if len(lines) > 0 {
		fmt.Fprintf(stdout, "Demo extensions created (passwords are shown only this once; change them with `softswitch user passwd EXT`):\n%s\n", strings.Join(lines, "\n"))
	}
	return nil
}

// statelessAnswers is what the read filter answers without a transaction
// (issue 20): the 401 to a REGISTER without credentials, and the 407 to
// an INVITE without them that must authenticate.
func statelessAnswers(authn *registrar.Authenticator, legs *sipleg.Manager) func(*sip.Request) *sip.Response {
	return func(req *sip.Request) *sip.Response {
		switch req.Method {
		case sip.REGISTER:
			return authn.Challenge(req, false)
		case sip.INVITE:
			return legs.StatelessInvite(req)
		}
		return nil
	}
}
