package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// sourceCollector reads the Sources at scrape time.
type sourceCollector struct{ src Sources }

var (
	descActive = prometheus.NewDesc(ns+"_calls_active", "Calls in progress (ringing or answered).", nil, nil)
	descRegs   = prometheus.NewDesc(ns+"_registrations", "Live registered contacts, by transport.", []string{"transport"}, nil)
	descAuth   = prometheus.NewDesc(ns+"_auth_failures_total", "Digest authentication failures (wrong password, unknown user, foreign nonce).", nil, nil)
	descBans   = prometheus.NewDesc(ns+"_auth_bans_total", "Sources banned after repeated authentication failures.", nil, nil)
	descRefuse = prometheus.NewDesc(ns+"_auth_refused_total", "Requests refused from throttled or banned sources.", nil, nil)
	descLimit  = prometheus.NewDesc(ns+"_rate_limited_total", "Out-of-dialog requests refused by the per-source rate limit, by method.", []string{"method"}, nil)
	descTrunk  = prometheus.NewDesc(ns+"_trunk_up", "Whether a trunk is up (1) or down (0).", []string{"trunk"}, nil)
)

// Describe sends every description, so the registry checks them at start.
func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descActive, descRegs, descAuth, descBans, descRefuse, descLimit, descTrunk} {
		ch <- d
	}
}

// Collect reads each source.
func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src
	if s.ActiveCalls != nil {
		send(ch, descActive, prometheus.GaugeValue, float64(s.ActiveCalls()))
	}
	if s.Registrations != nil {
		regs := s.Registrations()
		for _, t := range []string{"udp", "tcp", "tls", "ws", "wss"} {
			regs[t] += 0 // every transport shown, 0 included
		}
		for t, n := range regs {
			send(ch, descRegs, prometheus.GaugeValue, float64(n), t)
		}
	}
	if s.Auth != nil {
		f, b, r := s.Auth()
		send(ch, descAuth, prometheus.CounterValue, float64(f))
		send(ch, descBans, prometheus.CounterValue, float64(b))
		send(ch, descRefuse, prometheus.CounterValue, float64(r))
	}
	if s.RateLimited != nil {
		for m, n := range s.RateLimited() {
			send(ch, descLimit, prometheus.CounterValue, float64(n), m)
		}
	}
	if s.Trunks != nil {
		for name, up := range s.Trunks() {
			v := 0.0
			if up {
				v = 1
			}
			send(ch, descTrunk, prometheus.GaugeValue, v, name)
		}
	}
}

// send adds one sample; a sample the library refuses (it cannot, with
// these fixed descriptions) is left out rather than stopping the scrape.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	if m, err := prometheus.NewConstMetric(d, t, v, labels...); err == nil {
		ch <- m
	}
}
