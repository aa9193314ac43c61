package callstory

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Render writes a story for a person: the legs, the ladder in time order
// with each message's offset from the first, each SDP, then the verdicts.
func (s Story) Render(w io.Writer, now time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "call %s\n", s.CallID)
	for i, id := range s.Legs {
		name := "A"
		if i > 0 {
			name = fmt.Sprintf("B%d", i)
		}
		fmt.Fprintf(&b, "  leg %s: Call-ID %s%s\n", name, id, s.legPeer(name))
	}
	b.WriteString("\nladder (A→ from the caller, ←A to it; →B to a callee, B← from it):\n")
	t0 := s.Start()
	for _, e := range s.Entries {
		fmt.Fprintf(&b, "  %+8.3f %-4s %s\n", e.At.Sub(t0).Seconds(), arrow(e), e.FirstLine)
	}
	if s.Dropped > 0 {
		fmt.Fprintf(&b, "  (%d later messages not kept)\n", s.Dropped)
	}
	for _, e := range s.Entries {
		if e.SDP == "" {
			continue
		}
		what := "SDP"
		if e.Status == 0 {
			what = "offer in " + e.Method
		} else {
			what = fmt.Sprintf("SDP in %d to %s", e.Status, e.Method)
		}
		fmt.Fprintf(&b, "\n%s %s (+%.3f):\n", arrow(e), what, e.At.Sub(t0).Seconds())
		for _, line := range strings.Split(strings.TrimRight(strings.ReplaceAll(e.SDP, "\r\n", "\n"), "\n"), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	if len(s.Media) > 0 {
		b.WriteString("\nmedia:\n")
	}
	for _, m := range s.Media {
		fmt.Fprintf(&b, "  leg %s (%s): %d packets sent, %d received, %d lost, %d late, %d frames concealed, %d stray\n",
			m.Leg, m.Kind, m.PacketsSent, m.PacketsReceived, m.Lost, m.Late, m.Concealed, m.Stray)
		fmt.Fprintf(&b, "    from its peer: loss %.1f %% (%d of %d), jitter %.1f ms, round trip %s\n",
			m.LossPercent(), m.Missing, m.Expected, m.JitterMs, rtt(m.RTTMs))
		fmt.Fprintf(&b, "    first RTP: from its peer %s, to it %s\n", s.offset(m.FirstRTPIn), s.offset(m.FirstRTPOut))
		if m.MediaFailure != "" {
			fmt.Fprintf(&b, "    media timeout%s: %s\n", s.when(" at", m.MediaFailedAt), m.MediaFailure)
		}
		if m.ICEKnown {
			fmt.Fprintf(&b, "    ICE: %d connectivity checks%s, pair %s, %d datagrams refused; DTLS-SRTP %s%s%s\n", m.ICEChecks, s.when(", the first at", m.ICEFirstCheck),
				orNone(m.ICEPeer), m.ICEDropped, map[bool]string{true: "up", false: "never up"}[m.DTLSUp], s.when(" at", m.DTLSUpAt), role(m.DTLSRole))
		}
		if m.VideoIn+m.VideoOut > 0 {
			fmt.Fprintf(&b, "    video relayed: %d packets from its peer (%d not relayed), %d to it; feedback: %d from its peer relayed on, %d to it\n",
				m.VideoIn, m.VideoDropped, m.VideoOut, m.VideoFeedbackIn, m.VideoFeedbackOut)
		}
		fmt.Fprintf(&b, "    RTCP: %d sent, %d received; %d reports about us from its peer, %d of them timed (gave a round trip)\n",
			m.RTCPSent, m.RTCPReceived, m.Reports, m.ReportsTimed)
	}
	b.WriteString("\nverdicts:\n")
	vs := s.Verdicts(now)
	if len(vs) == 0 {
		b.WriteString("  none: nothing went wrong that the rules know of\n")
	}
	for _, v := range vs {
		fmt.Fprintf(&b, "  - %s\n", v)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Start is when the call's first message came: the origin of its
// timings.
func (s Story) Start() time.Time {
	if len(s.Entries) == 0 {
		return time.Time{}
	}
	return s.Entries[0].At
}

// Offset is t in seconds from the call's start, as the ladder times its
// messages; false when t is zero (never) or there is no start.
func (s Story) Offset(t time.Time) (float64, bool) {
	t0 := s.Start()
	if t.IsZero() || t0.IsZero() {
		return 0, false
	}
	return t.Sub(t0).Seconds(), true
}

// offset writes t as the ladder does ("+1.234"), or "never".
func (s Story) offset(t time.Time) string {
	if o, ok := s.Offset(t); ok {
		return fmt.Sprintf("%+.3f", o)
	}
	return "never"
}

// when writes prefix and t ("PREFIX +1.234") for a known t, else
// nothing.
func (s Story) when(prefix string, t time.Time) string {
	if o, ok := s.Offset(t); ok {
		return fmt.Sprintf("%s %+.3f", prefix, o)
	}
	return ""
}

// arrow draws a message's direction on the ladder A | softswitch | B.
func arrow(e Entry) string {
	if e.Leg == "A" {
		if e.In {
			return "A→"
		}
		return "←A"
	}
	if e.In {
		return e.Leg + "←"
	}
	return "→" + e.Leg
}

// legPeer names a leg's transport and peer address from its first message.
func (s Story) legPeer(leg string) string {
	for _, e := range s.Entries {
		if e.Leg == leg {
			return fmt.Sprintf(" (%s %s)", strings.ToUpper(e.Transport), e.Remote)
		}
	}
	return ""
}

// rtt names a round trip, or why there is none.
func rtt(ms float64) string {
	if ms == 0 {
		return "unknown (no RTCP report about our stream)"
	}
	return fmt.Sprintf("%.1f ms", ms)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func role(r string) string {
	if r == "" {
		return " (handshake never started)"
	}
	return " (we are the " + r + ")"
}
