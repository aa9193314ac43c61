package webrtcep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/softswitch/softswitch/media"
)

// Video on the lite engine: VP8 and H.264 packets relayed between two
// browser legs, never decoded (issue 17). Each leg negotiates its own
// payload types and SSRCs; the video m-line shares the audio's transport
// (BUNDLE, rtcp-mux). No header extensions are negotiated, so none need
// mapping between the legs.

// Video codecs we relay, by name as VideoCodecs returns them.
const (
	VideoVP8  = "VP8"
	VideoH264 = "H264"
)

// Our offer's video payload types and H.264 format (constrained baseline,
// non-interleaved: what every browser decodes).
const (
	ptVP8      = 96
	ptH264     = 102
	videoClock = 90000
	h264Fmtp   = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
)

// videoFeedback is the RTCP feedback our video m-lines offer and accept:
// NACK, PLI and FIR are relayed to the sending browser, REMB too.
var videoFeedback = []string{"nack", "nack pli", "ccm fir", "goog-remb"}

// codecID numbers the relayed codecs in a videoMap; 0 is none.
type codecID uint8

const (
	codecNone codecID = iota
	codecVP8
	codecH264
	numVideoCodecs
)

func videoCodecID(name string) codecID {
	switch {
	case strings.EqualFold(name, VideoVP8):
		return codecVP8
	case strings.EqualFold(name, VideoH264):
		return codecH264
	}
	return codecNone
}

// videoCodec is one relayed codec at one leg's payload type.
type videoCodec struct {
	name string // VideoVP8, VideoH264
	pt   uint8
	fmtp string
}

// peerVideo is the peer's first video m-line.
type peerVideo struct {
	index      int          // m-line index; -1 without video
	mid        string       // its a=mid
	codecs     []videoCodec // relayable codecs at the peer's payload types, in its order, one per name
	send, recv bool         // the peer's direction
	rejected   bool         // port 0
}

// readPeerVideo reads the first video m-line of sd.
func readPeerVideo(sd *sdp.SessionDescription) peerVideo {
	v := peerVideo{index: -1}
	for i, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		v.index = i
		v.mid, _ = m.Attribute("mid")
		v.rejected = m.MediaName.Port.Value == 0
		d := media.Direction(sd, m)
		v.send = d == sdp.DirectionSendRecv || d == sdp.DirectionSendOnly
		v.recv = d == sdp.DirectionSendRecv || d == sdp.DirectionRecvOnly
		v.codecs = relayableCodecs(sd, m)
		return v
	}
	return v
}

// relayableCodecs lists VP8 and H.264 of an m-line, one payload type
// each, in the m-line's order: H.264 only non-interleaved (packetization
// mode 1) Baseline or Constrained Baseline, Constrained Baseline
// (42e0..) preferred.
func relayableCodecs(sd *sdp.SessionDescription, m *sdp.MediaDescription) []videoCodec {
	var vp8, h264, h264Base *videoCodec
	order := map[string]int{}
	for i, f := range m.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		c, err := sd.GetCodecForPayloadType(uint8(pt))
		if err != nil || c.ClockRate != videoClock {
			continue
		}
		switch {
		case strings.EqualFold(c.Name, VideoVP8) && vp8 == nil:
			vp8 = &videoCodec{name: VideoVP8, pt: uint8(pt), fmtp: c.Fmtp}
			order[VideoVP8] = i
		case strings.EqualFold(c.Name, VideoH264) && h264Mode1(c.Fmtp):
			prof := strings.ToLower(fmtpParam(c.Fmtp, "profile-level-id"))
			switch {
			case strings.HasPrefix(prof, "42e0") && h264 == nil:
				h264 = &videoCodec{name: VideoH264, pt: uint8(pt), fmtp: c.Fmtp}
				order["h264"] = i
			case strings.HasPrefix(prof, "42") && h264Base == nil:
				h264Base = &videoCodec{name: VideoH264, pt: uint8(pt), fmtp: c.Fmtp}
				order["h264base"] = i
			}
		}
	}
	if h264 == nil && h264Base != nil {
		h264 = h264Base
		order["h264"] = order["h264base"]
	}
	var out []videoCodec
	if vp8 != nil {
		out = append(out, *vp8)
	}
	if h264 != nil {
		if vp8 != nil && order["h264"] < order[VideoVP8] {
			out = append([]videoCodec{*h264}, out...)
		} else {
			out = append(out, *h264)
		}
	}
	return out
}

// h264Mode1 tells whether an H.264 fmtp says packetization-mode=1.
func h264Mode1(fmtp string) bool { return fmtpParam(fmtp, "packetization-mode") == "1" }

// fmtpParam is one key=value of an fmtp line, "" when absent.
func fmtpParam(fmtp, key string) string {
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ourVideoCodecs is what our offer carries of names: VP8 and H.264 at
// our payload types.
func ourVideoCodecs(names []string) []videoCodec {
	var out []videoCodec
	seen := [numVideoCodecs]bool{}
	for _, n := range names {
		id := videoCodecID(n)
		if id == codecNone || seen[id] {
			continue
		}
		seen[id] = true
		switch id {
		case codecVP8:
			out = append(out, videoCodec{name: VideoVP8, pt: ptVP8})
		case codecH264:
			out = append(out, videoCodec{name: VideoH264, pt: ptH264, fmtp: h264Fmtp})
		}
	}
	return out
}

// keepCodecs keeps the codecs of cs named in names, in cs's order.
func keepCodecs(cs []videoCodec, names []string) []videoCodec {
	var out []videoCodec
	for _, c := range cs {
		for _, n := range names {
			if strings.EqualFold(c.name, n) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// codecNames lists the names of cs.
func codecNames(cs []videoCodec) []string {
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

// localVideo is our video m-line.
type localVideo struct {
	index  int // its place among the m-lines
	mid    string
	dir    string
	ssrc   uint32
	codecs []videoCodec
}

// videoLine writes our video m-line, on the audio's transport (BUNDLE).
func (l localSDP) videoLine(b *strings.Builder) {
	v := l.video
	b.WriteString("m=video 9 UDP/TLS/RTP/SAVPF")
	for _, c := range v.codecs {
		fmt.Fprintf(b, " %d", c.pt)
	}
	l.transport(b, v.mid)
	fmt.Fprintf(b, "a=%s\r\na=msid:softswitch video\r\na=rtcp-mux\r\n", v.dir)
	for _, c := range v.codecs {
		fmt.Fprintf(b, "a=rtpmap:%d %s/%d\r\n", c.pt, c.name, videoClock)
		if c.fmtp != "" {
			fmt.Fprintf(b, "a=fmtp:%d %s\r\n", c.pt, c.fmtp)
		}
		for _, fb := range videoFeedback {
			fmt.Fprintf(b, "a=rtcp-fb:%d %s\r\n", c.pt, fb)
		}
	}
	fmt.Fprintf(b, "a=ssrc:%d cname:softswitch\r\na=ssrc:%d msid:softswitch video\r\n", v.ssrc, v.ssrc)
}
