package metrics

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sources are read at each scrape; a nil one is left out.
type Sources struct {
	ActiveCalls   func() int
	Registrations func() map[string]int // live bindings by transport
	Auth          func() (failures, bans, refused uint64)
	RateLimited   func() map[string]uint64 // refused requests by method
	Trunks        func() map[string]bool   // trunk name -> up
}

// Metrics is the softswitch's metric set on its own registry.
type Metrics struct {
	reg            *prometheus.Registry
	callsUp        *prometheus.GaugeVec
	calls          *prometheus.CounterVec
	setup          prometheus.Histogram
	sipRequests    *prometheus.CounterVec
	sipResponses   *prometheus.CounterVec
	dialplanErrors prometheus.Counter
	rtpPackets     *prometheus.CounterVec
	rtpLost        prometheus.Counter
	lossRatio      prometheus.Histogram
	jitter         prometheus.Histogram
	rtt            prometheus.Histogram
	frames         *prometheus.CounterVec
}

const ns = "softswitch"

// New builds the metric set and registers the scrape-time sources.
func New(src Sources) (*Metrics, error) {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.callsUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "calls_answered",
		Help: "Answered calls in progress, by media kind (relayed, transcoded, prompt)."}, []string{"media"})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "calls_total",
		Help: "Calls ended, by hangup cause."}, []string{"cause"})
	m.setup = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "call_setup_seconds",
		Help:    "Time from a call's INVITE to its answer.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60}})
	m.sipRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sip_requests_total",
		Help: "SIP requests received (in) and sent (out), by method."}, []string{"direction", "method"})
	m.sipResponses = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sip_responses_total",
		Help: "SIP responses received (in) and sent (out), by CSeq method and status code."}, []string{"direction", "method", "code"})
	m.dialplanErrors = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "dialplan_errors_total",
		Help: "Dialplan runs that ended in a script error."})
	m.rtpPackets = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rtp_packets_total",
		Help: "RTP packets of ended calls' legs, by endpoint kind (rtp, webrtc) and direction (in, out)."}, []string{"kind", "direction"})
	m.rtpLost = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "rtp_lost_total",
		Help: "RTP packets of ended calls' legs that never arrived (sequence gaps)."})
	m.lossRatio = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "rtp_loss_ratio",
		Help:    "Share of RTP packets lost on a leg, observed once per leg that received media when its call ends.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5}})
	m.jitter = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "rtp_jitter_seconds",
		Help:    "RFC 3550 interarrival jitter of what a leg's peer sent, observed once per leg that received media when its call ends.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2}})
	m.rtt = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "rtcp_round_trip_seconds",
		Help:    "Round trip from a leg's peer's last RTCP reception report (arrival - LSR - DLSR), observed once per leg that had one when its call ends.",
		Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1}})
	m.frames = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "media_frames_total",
		Help: "Received audio frames of ended calls, by path: decoded (transcoded or played) or relayed (passed through undecoded)."}, []string{"path"})
	for _, c := range []prometheus.Collector{m.callsUp, m.calls, m.setup, m.sipRequests, m.sipResponses, m.dialplanErrors,
		m.rtpPackets, m.rtpLost, m.lossRatio, m.jitter, m.rtt, m.frames,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&sourceCollector{src: src}} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// CallAnswered counts an answered call of media kind, setup after its start.
func (m *Metrics) CallAnswered(media string, setup time.Duration) {
	m.callsUp.WithLabelValues(media).Inc()
	m.setup.Observe(setup.Seconds())
}

// CallEnded counts a call's end; media is its kind when it was answered,
// "" when it never was.
func (m *Metrics) CallEnded(cause, media string) {
	if cause == "" {
		cause = "unknown"
	}
	m.calls.WithLabelValues(cause).Inc()
	if media != "" {
		m.callsUp.WithLabelValues(media).Dec()
	}
}

// SIP counts one message: a request (status 0) by method, a response by
// its CSeq method and status.
func (m *Metrics) SIP(in bool, method string, status int) {
	dir := "out"
	if in {
		dir = "in"
	}
	if method == "" || len(method) > 20 {
		method = "other" // bounded label values whatever a peer sends
	}
	if status == 0 {
		m.sipRequests.WithLabelValues(dir, knownMethod(method)).Inc()
		return
	}
	m.sipResponses.WithLabelValues(dir, knownMethod(method), strconv.Itoa(status)).Inc()
}

// LegMedia is what one leg's media endpoint counted over a call.
type LegMedia struct {
	Kind             string        // "rtp" or "webrtc"
	Sent, Received   uint64        // RTP packets
	Lost             uint64        // packets that never arrived
	Decoded, Relayed uint64        // received frames decoded, or passed through
	Jitter           time.Duration // RFC 3550 interarrival jitter of what it received
	RTT              time.Duration // from its peer's last reception report; 0: none
}

// CallMedia counts the media of an ended call's legs.
func (m *Metrics) CallMedia(legs []LegMedia) {
	for _, l := range legs {
		m.rtpPackets.WithLabelValues(l.Kind, "out").Add(float64(l.Sent))
		m.rtpPackets.WithLabelValues(l.Kind, "in").Add(float64(l.Received))
		m.rtpLost.Add(float64(l.Lost))
		if expected := l.Received + l.Lost; expected > 0 {
			m.lossRatio.Observe(float64(l.Lost) / float64(expected))
			m.jitter.Observe(l.Jitter.Seconds())
		}
		if l.RTT > 0 {
			m.rtt.Observe(l.RTT.Seconds())
		}
		m.frames.WithLabelValues("decoded").Add(float64(l.Decoded))
		m.frames.WithLabelValues("relayed").Add(float64(l.Relayed))
	}
}

// DialplanError counts a dialplan run that failed.
func (m *Metrics) DialplanError() { m.dialplanErrors.Inc() }

// knownMethod keeps the method label to the methods of SIP: any other
// token a peer sends is "other", so labels stay bounded.
func knownMethod(m string) string {
	switch m {
	case "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "SUBSCRIBE", "NOTIFY",
		"PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE":
		return m
	}
	return "other"
}
