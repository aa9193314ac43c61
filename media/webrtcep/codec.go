package webrtcep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/codecs/g711"
)

// Codec names as Codec and media.PayloadSink see them.
const (
	CodecOpus = "opus"
	CodecPCMU = g711.PCMU
	CodecPCMA = g711.PCMA
)

// Payload types registered in the MediaEngine: what our offers carry. As
// answerer pion adopts the offer's numbers.
const (
	ptOpus = 111
	ptPCMU = 0
	ptPCMA = 8
	ptTE48 = 110
	ptTE8  = 126

	opusFmtp = "minptime=10;useinbandfec=1"
	teFmtp   = "0-16"
	teMime   = "audio/telephone-event"

	g711Rate   = 8000
	opusClock  = 48000
	maxPacket  = 1500
	maxSamples = DefaultRate / 50 // one 20 ms frame at the highest rate
)

// kind is what a payload type carries.
type kind uint8

const (
	kindNone kind = iota
	kindOpus
	kindPCMU
	kindPCMA
	kindTE
)

func (k kind) String() string {
	switch k {
	case kindOpus:
		return CodecOpus
	case kindPCMU:
		return CodecPCMU
	case kindPCMA:
		return CodecPCMA
	case kindTE:
		return "telephone-event"
	}
	return ""
}

// clock is the RTP clock rate of an audio kind.
func (k kind) clock() uint32 {
	if k == kindOpus {
		return opusClock
	}
	return g711Rate
}

// kindOf maps an encoding name (a MIME type or an SDP rtpmap name) and
// clock rate to a kind.
func kindOf(name string, clock uint32) kind {
	name = strings.TrimPrefix(strings.ToLower(name), "audio/")
	switch {
	case name == "opus" && clock == opusClock:
		return kindOpus
	case name == "pcmu" && clock == g711Rate:
		return kindPCMU
	case name == "pcma" && clock == g711Rate:
		return kindPCMA
	case name == "telephone-event":
		return kindTE
	}
	return kindNone
}

// registeredCodecs is our codec list in preference order: Opus first,
// then G.711, then telephone-event at both clock rates.
func registeredCodecs() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: opusClock, Channels: 2, SDPFmtpLine: opusFmtp}, PayloadType: ptOpus},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: g711Rate}, PayloadType: ptPCMU},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: g711Rate}, PayloadType: ptPCMA},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: teMime, ClockRate: opusClock, SDPFmtpLine: teFmtp}, PayloadType: ptTE48},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: teMime, ClockRate: g711Rate, SDPFmtpLine: teFmtp}, PayloadType: ptTE8},
	}
}

// newMediaEngine registers our codecs by hand (no video, no header
// extensions, no RTCP feedback).
func newMediaEngine() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	for _, c := range registeredCodecs() {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, fmt.Errorf("register codec %s: %w", c.MimeType, err)
		}
	}
	return me, nil
}

// ptEntry is what one payload type carries.
type ptEntry struct {
	kind  kind
	clock uint32
}

// ptTable maps payload types to kinds.
type ptTable [128]ptEntry

// audioSDP is what our SDP says about its first audio m-line.
type audioSDP struct {
	table      ptTable
	first      ptEntry // first audio codec listed: the one the peer sends
	send, recv bool    // direction, from our side
}

// parseAudio reads the payload types and direction of the first audio
// m-line of an SDP.
func parseAudio(body string) (audioSDP, error) {
	a := audioSDP{send: true, recv: true}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(body); err != nil {
		return a, fmt.Errorf("parse sdp: %w", err)
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" {
			continue
		}
		for _, f := range m.MediaName.Formats {
			pt, err := strconv.ParseUint(f, 10, 7)
			if err != nil {
				continue
			}
			c, err := sd.GetCodecForPayloadType(uint8(pt))
			if err != nil {
				continue
			}
			e := ptEntry{kind: kindOf(c.Name, c.ClockRate), clock: c.ClockRate}
			if e.kind == kindNone {
				continue
			}
			a.table[pt] = e
			if a.first.kind == kindNone && e.kind != kindTE {
				a.first = e
			}
		}
		for _, at := range m.Attributes {
			switch at.Key {
			case "sendonly":
				a.send, a.recv = true, false
			case "recvonly":
				a.send, a.recv = false, true
			case "inactive":
				a.send, a.recv = false, false
			}
		}
		return a, nil
	}
	return a, fmt.Errorf("parse sdp: no audio m-line")
}

// sendChoice is the codec and telephone-event payload type we send with.
type sendChoice struct {
	kind    kind
	pt      uint8
	te      int // -1: none
	teClock uint32
	params  webrtc.RTPCodecParameters
}

// chooseSend picks from negotiated codecs: Opus first, then PCMU, then
// PCMA; telephone-event at the codec's clock rate, else at any rate.
func chooseSend(cs []webrtc.RTPCodecParameters) (sendChoice, bool) {
	ch := sendChoice{te: -1}
	for _, want := range []kind{kindOpus, kindPCMU, kindPCMA} {
		for _, c := range cs {
			if kindOf(c.MimeType, c.ClockRate) == want {
				ch.kind, ch.pt, ch.params = want, uint8(c.PayloadType), c
				break
			}
		}
		if ch.kind != kindNone {
			break
		}
	}
	if ch.kind == kindNone {
		return ch, false
	}
	for _, c := range cs {
		if kindOf(c.MimeType, c.ClockRate) != kindTE {
			continue
		}
		if ch.te < 0 || c.ClockRate == ch.kind.clock() {
			ch.te, ch.teClock = int(c.PayloadType), c.ClockRate
		}
	}
	return ch, true
}
