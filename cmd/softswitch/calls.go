package main

import (
	"context"
	"fmt"
	"github.com/softswitch/softswitch/media/recording"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/b2bua/message"
	"github.com/softswitch/softswitch/b2bua/mwi"
	"github.com/softswitch/softswitch/b2bua/registrar"
	"github.com/softswitch/softswitch/b2bua/sipleg"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/b2bua/trunk"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/prompts"
	"github.com/softswitch/softswitch/media/rtpep"
	"github.com/softswitch/softswitch/media/webrtcep"
	"github.com/softswitch/softswitch/metrics"
)

// callCore is the part of the server that carries calls.
type callCore struct {
	engine   *b2bua.Engine
	legs     *sipleg.Manager
	cdrs     *store.CDRWriter
	browsers *webrtcep.Factory
	trunks   *trunk.Set
	memory   *memoryReturner
	mwi      *mwi.Server
	messages *message.Service
	dialplan *dialplan.Engine
}

// startCalls wires the dialplan, media endpoints, SIP legs and the call
// engine into srv.
func startCalls(cfg Config, srv *sipserver.Server, st *store.Store, users *store.UserCache, authn *registrar.Authenticator, reg *registrar.Registrar, met *metrics.Metrics, obs *observability, log *slog.Logger) (*callCore, error) {
	lo, hi, _ := parsePortRange(cfg.RTPPorts) // validated with the config
	ports, err := rtpep.NewPortPool(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("rtp ports: %w", err)
	}
	mediaIP := cfg.MediaIP
	if mediaIP == "" {
		mediaIP = defaultMediaIP(cfg.SIP)
		log.Info("media address not configured: using the default route's", "media_ip", mediaIP)
	}
	dp, err := dialplan.New(dialplan.Config{Path: cfg.Dialplan}, log)
	if err != nil {
		return nil, err // "dialplan: ..." with file:line
	}
	browsers, err := webrtcep.NewFactory(webrtcep.Config{IP: mediaIP, Port: cfg.WebRTCPort, RTPTimeout: cfg.RTPTimeout,
		Engine: cfg.WebRTCEngine, PortMin: lo, PortMax: hi}, log)
	if err != nil {
		return nil, fmt.Errorf("browser media: %w", err)
	}
	log.Info("listening", "transport", "webrtc", "addr", browsers.Addr().String())
	newEP := func(ctx context.Context, spec sipleg.MediaSpec) (media.Endpoint, error) {
		if spec.Kind == sipleg.MediaWebRTC {
			ep, err := browsers.New(ctx)
			if err == nil {
				obs.media.add(spec.CallID, spec.Leg, ep)
			}
			return ep, err
		}
		epLog := log
		if spec.CallID != "" { // the endpoint's lines (latching, timeouts) say which call
			epLog = log.With("call_id", spec.CallID, "leg", spec.Leg)
		}
		ep, err := rtpep.New(rtpep.Config{IP: mediaIP, Ports: ports, Codecs: spec.Codecs, RTPTimeout: cfg.RTPTimeout, SignalIP: spec.Signal}, epLog)
		if err == nil {
			obs.media.add(spec.CallID, spec.Leg, ep)
		}
		return ep, err
	}
	legs, err := sipleg.New(sipleg.Config{Host: mediaIP, AnonymousDestinations: cfg.AnonymousDestinations}, srv, authn, reg, users, newEP, log)
	if err != nil {
		return nil, err
	}
	cdrs := store.NewCDRWriter(st, 0, log)
	var plan b2bua.Dialplan = dp
	var records b2bua.CDRs = storyCDRs{next: cdrs, media: obs.media, stories: obs.stories, met: met}
	if met != nil {
		plan, records = meteredDialplan{next: dp, m: met}, newMeteredCDRs(records, met)
	}
	engine := b2bua.New(b2bua.Config{MOH: cfg.MOH, DataDir: cfg.Data, Recordings: cfg.Recordings.Dir,
		RecordingFormat:  recording.Format(cfg.Recordings.Format),
		TransferFallback: cfg.TransferFallback, Conference: cfg.Conference}, plan, legs, records, log)
	pcfg := cfg.Prompts
	if pcfg.Dir == "" {
		pcfg.Dir = filepath.Join(cfg.Data, "prompts")
	}
	store := prompts.New(pcfg, log)
	engine.SetPrompts(store)
	if moh := cfg.MOH; moh != b2bua.MOHOff {
		if moh == "" {
			moh = b2bua.DefaultMOH
		}
		// Decoded now (and kept): a held party never waits for it, and a
		// missing file is told at start, not at the first hold.
		if _, err := store.Prompt(moh, 8000); err != nil {
			log.Warn("music on hold cannot play: held parties hear no music", "moh", moh, "error", err)
		}
	}
	trunks := trunk.NewSet(trunk.Options{Client: legs.Client(), Contact: legs.Contact, FromHost: mediaIP,
		Prepare: legs.FromListener, Log: log})
	legs.SetTrunks(trunks)
	proxies, _ := cfg.proxyPrefixes() // validated with the config
	isProxy := isProxyFunc(proxies)
	srv.ExemptFromRateLimit(func(host string) bool {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		return trunks.FromCarrier(a) || (isProxy != nil && isProxy(host))
	})
	engine.SetTrunks(trunks)
	mwiSrv := startVoicemail(cfg, mediaIP, srv, st, authn, reg, legs, engine, log)
	msgs := startMessages(cfg, mediaIP, srv, st, authn, reg, legs, dp, log)
	legs.SetHandler(engine.Serve)
	memory := startMemoryReturner(engine.Active, 5*time.Second, log)
	return &callCore{engine: engine, legs: legs, cdrs: cdrs, browsers: browsers, trunks: trunks, memory: memory, mwi: mwiSrv, messages: msgs, dialplan: dp}, nil
}

// shutdown waits for calls (bounded by ctx), then saves the CDRs.
func (c *callCore) shutdown(ctx context.Context) error {
	err := c.engine.Shutdown(ctx)
	c.memory.close()
	c.mwi.Close() // after the calls: a last message still notifies
	c.messages.Close()
	c.trunks.Close() // unregisters
	c.legs.Wait()
	err = joinErr(err, c.browsers.Close())
	return joinErr(err, c.cdrs.Close())
}

// defaultMediaIP is the address of the interface the default route uses,
// found without sending anything (a UDP "connect" only picks a route), or
// the SIP listen address when that is specific.
func defaultMediaIP(sipAddr string) string {
	if host, _, err := net.SplitHostPort(sipAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			return host
		}
	}
	c, err := net.Dial("udp4", "192.0.2.1:9") // TEST-NET-1: a route lookup, no packet leaves
	if err != nil {
		return "127.0.0.1"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	return fmt.Errorf("%w; %w", a, b)
}
