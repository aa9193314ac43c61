package webrtcep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media"
)

// peerSDP is what the lite engine reads from the peer's offer or answer.
type peerSDP struct {
	remote remoteMedia
	audio  int                         // index of the first audio m-line
	mids   []string                    // a=mid of every m-line ("" when absent)
	lines  []*sdp.MediaDescription     // every m-line, to reject the others in an answer
	codecs []webrtc.RTPCodecParameters // the audio codecs of ours, at the peer's payload types
	video  peerVideo                   // the first video m-line
}

// readPeerSDP reads ICE credentials, the sha-256 fingerprint, the DTLS
// role, the m-lines and our codecs from the peer's SDP. Malformed SDP is
// media.ErrBadSDP; no audio or none of our codecs media.ErrNoCommonCodec;
// no ICE or DTLS ErrNegotiation.
func readPeerSDP(body []byte) (peerSDP, error) {
	p := peerSDP{audio: -1}
	sd, err := media.ParseSDP(body)
	if err != nil {
		return p, fmt.Errorf("parse sdp: %w", err)
	}
	attr := func(m *sdp.MediaDescription, key string) string {
		if v, ok := m.Attribute(key); ok {
			return strings.TrimSpace(v)
		}
		v, _ := sd.Attribute(key)
		return strings.TrimSpace(v)
	}
	for i, m := range sd.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		p.mids = append(p.mids, mid)
		p.lines = append(p.lines, m)
		if m.MediaName.Media != "audio" || p.audio >= 0 {
			continue
		}
		p.audio = i
		p.remote.ice = iceCreds{ufrag: attr(m, "ice-ufrag"), pwd: attr(m, "ice-pwd")}
		p.remote.setup = attr(m, "setup")
		p.remote.fingerprint = sha256Fingerprint(sd, m)
		p.codecs = ourCodecs(sd, m)
	}
	p.video = readPeerVideo(sd)
	switch {
	case p.audio < 0:
		return p, fmt.Errorf("parse sdp: no audio m-line: %w", ErrNoCommonCodec)
	case len(p.codecs) == 0 || !hasAudioCodec(p.codecs):
		return p, fmt.Errorf("%w: the sdp has none of opus, PCMU, PCMA", ErrNoCommonCodec)
	case p.remote.ice.ufrag == "" || p.remote.ice.pwd == "":
		return p, fmt.Errorf("%w: no ice-ufrag or ice-pwd", ErrNegotiation)
	case p.remote.fingerprint == "":
		return p, fmt.Errorf("%w: no sha-256 fingerprint", ErrNegotiation)
	}
	return p, nil
}

// sha256Fingerprint is the sha-256 a=fingerprint of the m-line, else of
// the session.
func sha256Fingerprint(sd *sdp.SessionDescription, m *sdp.MediaDescription) string {
	for _, attrs := range [][]sdp.Attribute{m.Attributes, sd.Attributes} {
		for _, a := range attrs {
			if a.Key != "fingerprint" {
				continue
			}
			alg, fp, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			if strings.EqualFold(alg, "sha-256") && len(fp) == 95 {
				return strings.ToUpper(strings.TrimSpace(fp))
			}
		}
	}
	return ""
}

// ourCodecs lists the m-line's codecs that we take, at its payload types:
// Opus, PCMU and PCMA in our preference order, then telephone-event at
// 48000 and 8000 Hz in the m-line's order.
func ourCodecs(sd *sdp.SessionDescription, m *sdp.MediaDescription) []webrtc.RTPCodecParameters {
	var audio [3][]webrtc.RTPCodecParameters
	var te []webrtc.RTPCodecParameters
	for _, f := range m.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		c, err := sd.GetCodecForPayloadType(uint8(pt))
		if err != nil {
			continue
		}
		if isTE(c.Name) {
			if c.ClockRate == opusClock || c.ClockRate == g711Rate {
				te = append(te, webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(pt),
					RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: teMime, ClockRate: c.ClockRate, SDPFmtpLine: teFmtp}})
			}
			continue
		}
		for i, r := range registeredCodecs()[:3] {
			if media.CodecByName(c.Name, c.ClockRate) == media.CodecByName(r.MimeType, r.ClockRate) && len(audio[i]) == 0 {
				r.PayloadType = webrtc.PayloadType(pt)
				audio[i] = append(audio[i], r)
			}
		}
	}
	out := append(append(append([]webrtc.RTPCodecParameters{}, audio[0]...), audio[1]...), audio[2]...)
	return append(out, te...)
}

func hasAudioCodec(cs []webrtc.RTPCodecParameters) bool {
	_, ok := chooseSend(cs)
	return ok
}

// localSDP is what our offer or answer says.
type localSDP struct {
	sessID, version uint64
	ip              string
	port            int
	ice             iceCreds
	fingerprint     string
	setup           string // actpass, active, passive
	dir             string // sendrecv, sendonly, recvonly, inactive
	mid             string
	ssrc            uint32
	codecs          []webrtc.RTPCodecParameters
	// rejected are the peer's other m-lines (answer only), by index.
	rejected []*sdp.MediaDescription
	mids     []string
	audio    int
	// video is our video m-line (BUNDLEd with the audio), nil without.
	video *localVideo
}

// marshal writes a complete (non-trickle) SDP: ICE-lite, one host
// candidate, DTLS-SRTP, rtcp-mux, BUNDLE of the audio m-line (and the
// video one, when there is one); the peer's other m-lines rejected (port
// 0) in their places.
func (l localSDP) marshal() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- %d %d IN IP4 %s\r\ns=-\r\nt=0 0\r\n", l.sessID, l.version, l.ip)
	group := l.mid
	n := max(len(l.rejected), 1)
	if l.video != nil {
		group += " " + l.video.mid
		n = max(n, l.video.index+1)
	}
	fmt.Fprintf(&b, "a=group:BUNDLE %s\r\na=ice-lite\r\na=msid-semantic: WMS softswitch\r\n", group)
	for i := range n {
		if l.video != nil && i == l.video.index {
			l.videoLine(&b)
			continue
		}
		if i != l.audio {
			m := l.rejected[i]
			f := "0"
			if len(m.MediaName.Formats) > 0 {
				f = m.MediaName.Formats[0]
			}
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\nc=IN IP4 %s\r\n", m.MediaName.Media, strings.Join(m.MediaName.Protos, "/"), f, l.ip)
			if l.mids[i] != "" {
				fmt.Fprintf(&b, "a=mid:%s\r\n", l.mids[i])
			}
			b.WriteString("a=inactive\r\n")
			continue
		}
		l.audioLine(&b)
	}
	return []byte(b.String())
}

func (l localSDP) audioLine(b *strings.Builder) {
	b.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF")
	for _, c := range l.codecs {
		fmt.Fprintf(b, " %d", c.PayloadType)
	}
	l.transport(b, l.mid)
	fmt.Fprintf(b, "a=%s\r\na=msid:softswitch audio\r\na=rtcp-mux\r\n", l.dir)
	for _, c := range l.codecs {
		name := strings.TrimPrefix(c.MimeType, "audio/")
		fmt.Fprintf(b, "a=rtpmap:%d %s/%d", c.PayloadType, name, c.ClockRate)
		if c.Channels > 1 {
			fmt.Fprintf(b, "/%d", c.Channels)
		}
		b.WriteString("\r\n")
		if c.SDPFmtpLine != "" {
			fmt.Fprintf(b, "a=fmtp:%d %s\r\n", c.PayloadType, c.SDPFmtpLine)
		}
	}
	fmt.Fprintf(b, "a=ssrc:%d cname:softswitch\r\na=ssrc:%d msid:softswitch audio\r\n", l.ssrc, l.ssrc)
}

// transport writes what every m-line of ours says about the one
// transport they share: the end of the m= line, c=, our candidate, ICE
// credentials, fingerprint, DTLS role, and its a=mid.
func (l localSDP) transport(b *strings.Builder, mid string) {
	fmt.Fprintf(b, "\r\nc=IN IP4 %s\r\na=rtcp:9 IN IP4 0.0.0.0\r\n", l.ip)
	fmt.Fprintf(b, "a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n", l.ip, l.port)
	fmt.Fprintf(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", l.ice.ufrag, l.ice.pwd)
	fmt.Fprintf(b, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\na=mid:%s\r\n", l.fingerprint, l.setup, mid)
}

// answerDirection is our direction answering an offer that says the
// peer sends (send) and receives (recv) (RFC 3264 §6.1).
func answerDirection(send, recv bool) string {
	switch {
	case send && recv:
		return "sendrecv"
	case send:
		return "recvonly"
	case recv:
		return "sendonly"
	}
	return "inactive"
}
