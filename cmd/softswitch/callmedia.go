package main

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua"
	"github.com/softswitch/softswitch/b2bua/callstory"
	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/rtpep"
	"github.com/softswitch/softswitch/media/stream"
	"github.com/softswitch/softswitch/media/webrtcep"
	"github.com/softswitch/softswitch/metrics"
)

// maxMediaCalls bounds the calls whose endpoints are followed (a call
// refused before it starts leaves its entry until pushed out).
const maxMediaCalls = 4096

// callMedia follows each call's media endpoints, so that `call show`
// reads their counters while the call lasts and keeps them once it ended.
type callMedia struct {
	mu     sync.Mutex
	byCall map[string][]mediaRef
	order  []string
}

type mediaRef struct {
	leg  string
	read func() callstory.LegMedia
}

func newCallMedia() *callMedia { return &callMedia{byCall: make(map[string][]mediaRef)} }

// add follows ep, created for leg ("a", "b") of callID.
func (cm *callMedia) add(callID, leg string, ep media.Endpoint) {
	var ref mediaRef
	switch e := ep.(type) {
	case *rtpep.Endpoint:
		ref.read = func() callstory.LegMedia {
			st := e.Stats()
			m := legMedia("rtp", st.Stats)
			m.RTCPSent, m.RTCPReceived = st.RTCPSent, st.RTCPReceived
			return m
		}
	case *webrtcep.Endpoint:
		ref.read = func() callstory.LegMedia {
			st := e.Stats()
			m := legMedia("webrtc", st.Stats)
			m.RTCPSent, m.RTCPReceived = st.RTCPSent, st.RTCPReceived
			m.ICEKnown, m.ICEChecks, m.ICEPeer, m.DTLSUp = st.ICEKnown, st.ICEChecks, st.ICEPeer, st.DTLSConnected
			m.ICEDropped, m.DTLSRole = st.Dropped, st.DTLSRole
			m.ICEFirstCheck, m.DTLSUpAt = st.FirstCheck, st.DTLSConnectedAt
			v := e.VideoStats()
			m.VideoIn, m.VideoOut, m.VideoDropped = v.Received, v.Sent, v.Dropped
			m.VideoFeedbackIn, m.VideoFeedbackOut = v.FeedbackIn, v.FeedbackOut
			return m
		}
	default:
		return
	}
	if callID == "" {
		return
	}
	ref.leg = strings.ToUpper(leg)
	cm.mu.Lock()
	defer cm.mu.Unlock()
	if _, ok := cm.byCall[callID]; !ok {
		if len(cm.order) >= maxMediaCalls {
			delete(cm.byCall, cm.order[0])
			cm.order = cm.order[1:]
		}
		cm.order = append(cm.order, callID)
	}
	cm.byCall[callID] = append(cm.byCall[callID], ref)
}

// read returns the counters of callID's endpoints; with forget, the call
// is no longer followed.
func (cm *callMedia) read(callID string, forget bool) []callstory.LegMedia {
	cm.mu.Lock()
	refs := cm.byCall[callID]
	if forget {
		delete(cm.byCall, callID)
		for i, id := range cm.order {
			if id == callID {
				cm.order = append(cm.order[:i:i], cm.order[i+1:]...)
				break
			}
		}
	}
	cm.mu.Unlock()
	out := make([]callstory.LegMedia, 0, len(refs))
	for _, r := range refs {
		m := r.read()
		m.Leg = r.leg
		out = append(out, m)
	}
	return out
}

// legMedia is what a leg's stream counted.
func legMedia(kind string, s stream.Stats) callstory.LegMedia {
	return callstory.LegMedia{Kind: kind, PacketsSent: s.PacketsSent,
		PacketsReceived: s.PacketsReceived, Concealed: s.Concealed, Stray: s.Stray, SendErrors: s.SendErrors,
		Lost: s.Jitter.Lost, Late: s.Jitter.Late, Decoded: s.Decoded, Relayed: s.Relayed,
		Expected: s.Expected, Missing: s.Missing, JitterMs: ms(s.InterarrivalJitter), RTTMs: ms(s.RTT),
		Reports: s.Reports, ReportsTimed: s.ReportsTimed,
		FirstRTPIn: s.FirstReceived, FirstRTPOut: s.FirstSent, MediaFailedAt: s.FailedAt, MediaFailure: s.Failure}
}

// ms is d in milliseconds, to 0.1 ms.
func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*10) / 10 }

// storyCDRs hands each ended call's media counters to its story, and to
// the metrics when they are on.
type storyCDRs struct {
	next    b2bua.CDRs
	media   *callMedia
	stories *callstory.Recorder
	met     *metrics.Metrics // nil: off
}

func (s storyCDRs) Progress(r store.CDR) { s.next.Progress(r) }

func (s storyCDRs) Write(r store.CDR) {
	legs := s.media.read(r.CallID, true)
	s.stories.SetMedia(r.CallID, legs) // keeps legs: read only from here on
	if s.met != nil {
		ms := make([]metrics.LegMedia, len(legs))
		for i, l := range legs {
			ms[i] = metrics.LegMedia{Kind: l.Kind, Sent: l.PacketsSent, Received: l.PacketsReceived, Lost: l.Missing, // RFC 3550: relayed legs too
				Decoded: l.Decoded, Relayed: l.Relayed, Jitter: time.Duration(l.JitterMs * float64(time.Millisecond)),
				RTT: time.Duration(l.RTTMs * float64(time.Millisecond))}
		}
		s.met.CallMedia(ms)
	}
	s.next.Write(r)
}

// busiest returns the counters of leg (of several, as when a call forked,
// the one that carried most), or nil.
func busiest(ms []callstory.LegMedia, leg string) *legCounters {
	var best *callstory.LegMedia
	for i := range ms {
		m := &ms[i]
		if m.Leg == leg && (best == nil || m.PacketsSent+m.PacketsReceived > best.PacketsSent+best.PacketsReceived) {
			best = m
		}
	}
	if best == nil {
		return nil
	}
	c := countersOf(*best)
	return &c
}

func countersOf(m callstory.LegMedia) legCounters {
	return legCounters{Kind: m.Kind, Sent: m.PacketsSent, Received: m.PacketsReceived, Lost: m.Lost, Late: m.Late,
		LossPercent: math.Round(m.LossPercent()*10) / 10, JitterMs: m.JitterMs, RTTMs: m.RTTMs,
		RTCPSent: m.RTCPSent, RTCPReceived: m.RTCPReceived, Reports: m.Reports, ReportsTimed: m.ReportsTimed}
}

// legCounters is a leg's media in `softswitch calls`.
type legCounters struct {
	Kind        string  `json:"kind"`
	Sent        uint64  `json:"packets_sent"`
	Received    uint64  `json:"packets_received"`
	Lost        uint64  `json:"lost"`
	Late        uint64  `json:"late"`
	LossPercent float64 `json:"loss_percent"` // of what the peer sent (RFC 3550 sequence numbers)
	JitterMs    float64 `json:"jitter_ms"`    // RFC 3550 interarrival jitter of what the peer sent
	RTTMs       float64 `json:"rtt_ms"`       // from the peer's last RTCP report; 0: none came
	// RTCP packets sent and read, and the peer's reception reports about
	// us (timed: those naming our sender report, which give the round trip).
	RTCPSent     uint64 `json:"rtcp_sent"`
	RTCPReceived uint64 `json:"rtcp_received"`
	Reports      uint64 `json:"reports"`
	ReportsTimed uint64 `json:"reports_timed"`
}

func (c *legCounters) String() string {
	if c == nil {
		return ""
	}
	rtt := "-"
	if c.RTTMs > 0 {
		rtt = fmt.Sprintf("%.1fms", c.RTTMs)
	}
	return fmt.Sprintf("tx %d rx %d loss %.1f%% jitter %.1fms rtt %s", c.Sent, c.Received, c.LossPercent, c.JitterMs, rtt)
}
