package webrtcep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/stream"
)

// Codec names as Endpoint.Codec returns them.
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

	g711Rate  = 8000
	opusClock = 48000
	maxPacket = stream.MaxPacket
)

// isTE reports whether an encoding name or MIME type is telephone-event.
func isTE(name string) bool {
	return strings.EqualFold(strings.TrimPrefix(strings.ToLower(name), "audio/"), "telephone-event")
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

// audioSDP is what our SDP says about its first audio m-line.
type audioSDP struct {
	table      stream.PTTable // the payload types we receive
	first      media.Codec    // first audio codec listed: the one the peer sends
	send, recv bool           // direction, from our side
}

// audioTable reads the payload types and direction of the first audio
// m-line of an SDP.
func audioTable(body string) (audioSDP, error) {
	a := audioSDP{send: true, recv: true}
	sd, err := media.ParseSDP([]byte(body))
	if err != nil {
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
			if isTE(c.Name) {
				a.table.SetTE(uint8(pt), c.ClockRate)
				continue
			}
			if k := media.CodecByName(c.Name, c.ClockRate); k != media.CodecNone {
				a.table.SetCodec(uint8(pt), k)
				if a.first == media.CodecNone {
					a.first = k
				}
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
	return a, fmt.Errorf("parse sdp: no audio m-line: %w", media.ErrNoCommonCodec)
}

// hasCodec reports whether the SDP lists an audio codec of ours.
func (a audioSDP) hasCodec() bool { return a.first != media.CodecNone }

// sendChoice is what we send with, and pion's parameters of the codec.
type sendChoice struct {
	send   stream.Send
	params webrtc.RTPCodecParameters
}

// chooseSend picks from negotiated codecs: Opus first, then PCMU, then
// PCMA; telephone-event at the codec's clock rate, else at any rate.
func chooseSend(cs []webrtc.RTPCodecParameters) (sendChoice, bool) {
	ch := sendChoice{send: stream.Send{TE: -1}}
	for _, want := range []media.Codec{media.CodecOpus, media.CodecPCMU, media.CodecPCMA} {
		for _, c := range cs {
			if media.CodecByName(c.MimeType, c.ClockRate) == want {
				ch.send.Codec, ch.send.PT, ch.params = want, uint8(c.PayloadType), c
				break
			}
		}
		if ch.send.Codec != media.CodecNone {
			break
		}
	}
	if ch.send.Codec == media.CodecNone {
		return ch, false
	}
	for _, c := range cs {
		if !isTE(c.MimeType) {
			continue
		}
		if ch.send.TE < 0 || c.ClockRate == ch.send.Codec.Clock() {
			ch.send.TE, ch.send.TEClock = int(c.PayloadType), c.ClockRate
		}
	}
	return ch, true
}
