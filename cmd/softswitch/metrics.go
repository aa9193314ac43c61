package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/b2bua/sipserver"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/metrics"
)

// meteredCDRs counts calls as their records pass: answered (with their
// media kind and setup time) and ended (by cause).
type meteredCDRs struct {
	next b2bua.CDRs
	m    *metrics.Metrics

	mu sync.Mutex
	up map[string]string // record uid -> media kind, while answered
}

func newMeteredCDRs(next b2bua.CDRs, m *metrics.Metrics) *meteredCDRs {
	return &meteredCDRs{next: next, m: m, up: make(map[string]string)}
}

func (c *meteredCDRs) Progress(r store.CDR) {
	if r.State == store.CDRUp && r.UID != "" {
		c.mu.Lock()
		if _, ok := c.up[r.UID]; !ok {
			kind := mediaKind(r)
			c.up[r.UID] = kind
			c.m.CallAnswered(kind, r.Answer.Sub(r.Start))
		}
		c.mu.Unlock()
	}
	c.next.Progress(r)
}

func (c *meteredCDRs) Write(r store.CDR) {
	c.mu.Lock()
	kind := c.up[r.UID]
	delete(c.up, r.UID)
	c.mu.Unlock()
	c.next.Write(r) // first: the media counted there is in when calls_total moves
	c.m.CallEnded(r.Cause, kind)
}

// mediaKind names how a call's audio is carried: answered by the
// dialplan (a prompt), passed through (one codec both sides) or transcoded.
func mediaKind(r store.CDR) string {
	switch {
	case r.Target == "" || r.CodecB == "":
		return "prompt"
	case strings.EqualFold(r.CodecA, r.CodecB):
		return "relayed"
	}
	return "transcoded"
}

// meteredDialplan counts dialplan runs that fail other than by the call
// going away.
type meteredDialplan struct {
	next b2bua.Dialplan
	m    *metrics.Metrics
}

func (d meteredDialplan) Run(ctx context.Context, s dialplan.Session) error {
	err := d.next.Run(ctx, s)
	if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		d.m.DialplanError()
	}
	return err
}

// The dialplan engine decides pickups, also when metered.
var (
	_ b2bua.PickupPolicy = (*dialplan.Engine)(nil)
	_ b2bua.PickupPolicy = meteredDialplan{}
)

// OnPickup passes on_pickup through (b2bua.PickupPolicy), counting its
// failures like Run's.
func (d meteredDialplan) OnPickup(ctx context.Context, p dialplan.Pickup) (dialplan.PickupDecision, error) {
	pp, ok := d.next.(b2bua.PickupPolicy)
	if !ok {
		return dialplan.PickupDecision{}, nil
	}
	dec, err := pp.OnPickup(ctx, p)
	if err != nil && ctx.Err() == nil {
		d.m.DialplanError()
	}
	return dec, err
}

// health answers /healthz (the process serves HTTP) and /readyz (the SIP
// listeners are up and not draining, the database takes a write).
type health struct {
	ready atomic.Bool // set once every listener is up
	srv   *sipserver.Server
	st    *store.Store
}

func (h *health) healthz(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, "ok")
}

func (h *health) readyz(w http.ResponseWriter, r *http.Request) {
	if err := h.check(r.Context()); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (h *health) check(ctx context.Context) error {
	if !h.ready.Load() {
		return errors.New("starting")
	}
	if h.srv.Draining() {
		return errors.New("draining")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.st.SetMeta(ctx, "readyz_probe", time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("database not writable: %w", err)
	}
	return nil
}

// startMetrics serves /metrics, /healthz and /readyz on addr until the
// returned server is shut down with the other HTTP servers.
func startMetrics(addr string, m *metrics.Metrics, h *health, log *slog.Logger) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.HandleFunc("/healthz", h.healthz)
	mux.HandleFunc("/readyz", h.readyz)
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics server", "error", err)
		}
	}()
	log.Info("listening", "transport", "metrics", "addr", l.Addr().String())
	return s, nil
}
