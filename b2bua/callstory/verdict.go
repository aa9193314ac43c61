package callstory

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ackWait is how long a 200 to an INVITE waits for its ACK (64*T1).
const ackWait = 32 * time.Second

// Verdicts says in words what went wrong in a story, one sentence a
// problem found; none when nothing did. now bounds the waits still running.
func (s Story) Verdicts(now time.Time) []string {
	var out []string
	for _, rule := range []func(Story, time.Time) []string{noACK, noCommonCodec, connLost, oneWay} {
		out = append(out, rule(s, now)...)
	}
	return out
}

// noACK: we answered a leg's INVITE with 200 and no ACK came in 32 s.
func noACK(s Story, now time.Time) []string {
	var out []string
	for i, e := range s.Entries {
		if e.In || e.Status != 200 || e.Method != "INVITE" {
			continue
		}
		acked := false
		for _, later := range s.Entries[i+1:] {
			if later.Leg == e.Leg && later.In && later.Method == "ACK" && later.Status == 0 {
				acked = true
				break
			}
		}
		if !acked && now.Sub(e.At) >= ackWait {
			out = append(out, fmt.Sprintf("no ACK for the 200 on leg %s in %d s: the 200 never reached %s, or its ACK was lost on the way (a NAT or proxy in between)",
				e.Leg, int(ackWait.Seconds()), e.Remote))
		}
	}
	return out
}

// noCommonCodec: a 488 answered an offer; name what the offer held.
func noCommonCodec(s Story, _ time.Time) []string {
	var out []string
	for _, e := range s.Entries {
		if e.Status != 488 || e.Method != "INVITE" {
			continue
		}
		offer := ""
		for _, o := range s.Entries {
			if o.Leg == e.Leg && o.Method == "INVITE" && o.Status == 0 && o.SDP != "" && o.In != e.In {
				offer = o.SDP
			}
		}
		who := "the softswitch"
		if e.In {
			who = "the callee"
		}
		if offer == "" {
			out = append(out, fmt.Sprintf("488 on leg %s: %s refused the offer (no SDP was seen)", e.Leg, who))
			continue
		}
		out = append(out, fmt.Sprintf("488 on leg %s: %s found no codec in common: the offer had only %s",
			e.Leg, who, strings.Join(offeredCodecs(offer), ", ")))
	}
	return out
}

// staticPT names the RTP/AVP static payload types (RFC 3551).
var staticPT = map[string]string{"0": "PCMU", "3": "GSM", "4": "G723", "8": "PCMA", "9": "G722", "18": "G729"}

// offeredCodecs lists the audio codecs of an SDP by name, in its order
// (telephone-event and comfort noise left out).
func offeredCodecs(sdp string) []string {
	names := map[string]string{}
	var pts []string
	for _, line := range strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "m=audio "):
			if f := strings.Fields(line); len(f) > 3 {
				pts = append(pts, f[3:]...)
			}
		case strings.HasPrefix(line, "a=rtpmap:"):
			pt, rest, ok := strings.Cut(strings.TrimPrefix(line, "a=rtpmap:"), " ")
			if ok {
				name, _, _ := strings.Cut(rest, "/")
				names[pt] = name
			}
		}
	}
	var out []string
	for _, pt := range pts {
		switch {
		case strings.EqualFold(names[pt], "telephone-event") || strings.EqualFold(names[pt], "CN") || pt == "13":
			continue // events and comfort noise are not what a call is refused for
		case names[pt] != "":
			out = append(out, names[pt])
		case staticPT[pt] != "":
			out = append(out, staticPT[pt])
		default:
			out = append(out, "payload type "+pt)
		}
	}
	if len(out) == 0 {
		return []string{"no audio"}
	}
	return out
}

// connLost: a leg's connection closed while the call was up, no BYE first.
func connLost(s Story, _ time.Time) []string {
	var out []string
	var t0 time.Time
	if len(s.Entries) > 0 {
		t0 = s.Entries[0].At
	}
	for _, e := range s.Entries {
		if !e.Closed {
			continue
		}
		where := fmt.Sprintf("leg %s (%s %s) at +%.3f s without a BYE", e.Leg, strings.ToUpper(e.Transport), e.Remote, e.At.Sub(t0).Seconds())
		if e.Transport != "ws" && e.Transport != "wss" {
			out = append(out, "the connection of "+where+" closed mid-call: the phone went away (restarted, network changed, or a NAT or proxy cut the connection)")
			continue
		}
		if e.CloseCode == 0 {
			out = append(out, "the softswitch closed the WebSocket of "+where+" mid-call (shutting down, or the connection broke on our side)")
			continue
		}
		out = append(out, fmt.Sprintf("the browser's WebSocket closed mid-call (code %d) on %s: %s", e.CloseCode, where, wsCloseMeaning(e.CloseCode)))
	}
	return out
}

// mediaGrace is how long after the answer a leg may stay silent before
// its silence is a verdict (a peer's first packet can take a moment).
const mediaGrace = 3 * time.Second

// oneWay: a leg answered for longer than mediaGrace received no RTP.
func oneWay(s Story, now time.Time) []string {
	var answer, end time.Time
	for _, e := range s.Entries {
		if e.Leg == "A" && !e.In && e.Method == "INVITE" && e.Status == 200 && answer.IsZero() {
			answer = e.At
		}
		if e.Method == "BYE" && e.Status == 0 && end.IsZero() || e.Closed && end.IsZero() {
			end = e.At
		}
	}
	if answer.IsZero() {
		return nil
	}
	if end.IsZero() {
		end = now
	}
	if end.Sub(answer) < mediaGrace {
		return nil
	}
	var out []string
	for _, m := range s.Media {
		if m.PacketsReceived > 0 {
			continue
		}
		where := ""
		if addr := s.mediaAddress(m.Leg); addr != "" {
			where = fmt.Sprintf(" (its SDP named %s", addr)
			if private(addr) {
				where += ", a private address: behind NAT, only latching to its first packet can find it"
			}
			where += ")"
		}
		v := fmt.Sprintf("one-way audio: nothing received from leg %s's peer in %.1f s since the answer%s; %d packets were sent to it",
			m.Leg, end.Sub(answer).Seconds(), where, m.PacketsSent)
		if m.Kind == "webrtc" {
			v += "; " + s.browserTransport(m)
			if m.SendErrors > 0 {
				v += fmt.Sprintf(" (%d packets to it were refused: its transport never connected)", m.SendErrors)
			}
		}
		out = append(out, v)
	}
	return out
}

// mediaAddress is the c= address of the SDP a leg's peer sent.
func (s Story) mediaAddress(leg string) string {
	for _, e := range s.Entries {
		if !e.In || e.SDP == "" || !strings.HasPrefix(e.Leg, leg) {
			continue
		}
		for _, line := range strings.Split(strings.ReplaceAll(e.SDP, "\r\n", "\n"), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "c=IN" {
				return f[2]
			}
		}
	}
	return ""
}

func private(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.IsPrivate()
}

// wsCloseMeaning says what a WebSocket close code (RFC 6455 §7.4.1) means
// for a call.
func wsCloseMeaning(code int) string {
	switch code {
	case 1006:
		return "no close frame came: the browser was killed or crashed, the computer slept, or its network went away"
	case 1001:
		return "the browser went away: the tab was closed or reloaded, or the page navigated away"
	case 1000:
		return "the page closed it normally, but never sent a BYE (a web phone bug)"
	case 1005:
		return "the page closed it without a reason"
	case 1002, 1003, 1007, 1008, 1009:
		return "the browser found our WebSocket traffic wrong (a protocol or message error)"
	}
	return "the page or a proxy closed it"
}

// browserTransport says how far a silent browser leg's ICE and DTLS got.
func (s Story) browserTransport(m LegMedia) string {
	where := "the softswitch's WebRTC UDP port"
	if c := s.ourCandidate(m.Leg); c != "" {
		where = c + ", the candidate our SDP gave it"
	}
	switch {
	case !m.ICEKnown:
		return "a browser that sends nothing has usually not completed ICE or DTLS: check that the browser reaches the softswitch's WebRTC UDP port (webrtc_port)"
	case m.ICEChecks == 0 && m.ICEDropped > 0:
		return fmt.Sprintf("ICE never started: %d datagrams reached %s, but none was a valid connectivity check (wrong ICE credentials, or not STUN), so DTLS never started either", m.ICEDropped, where)
	case m.ICEChecks == 0:
		return "ICE never started: no connectivity check (STUN binding request) from the browser reached " + where +
			", so DTLS never started either: check that the browser can reach that UDP port (a firewall or VPN in between, or a browser ICE policy that offers no candidate)"
	case !m.DTLSUp:
		return fmt.Sprintf("ICE worked (%d connectivity checks, the pair with %s) but DTLS never completed: the handshake failed (a certificate that does not match the SDP fingerprint) or its packets were lost on the way",
			m.ICEChecks, m.ICEPeer)
	}
	return "ICE and DTLS completed, yet the browser sent no audio: its microphone is muted, missing or not allowed"
}

// ourCandidate is the ICE candidate (address and port) of the SDP the
// softswitch sent on leg.
func (s Story) ourCandidate(leg string) string {
	for _, e := range s.Entries {
		if e.In || e.SDP == "" || !strings.HasPrefix(e.Leg, leg) {
			continue
		}
		for _, line := range strings.Split(strings.ReplaceAll(e.SDP, "\r\n", "\n"), "\n") {
			if f := strings.Fields(strings.TrimPrefix(line, "a=candidate:")); strings.HasPrefix(line, "a=candidate:") && len(f) >= 6 {
				return fmt.Sprintf("%s %s port %s", strings.ToUpper(f[2]), f[4], f[5])
			}
		}
	}
	return ""
}
