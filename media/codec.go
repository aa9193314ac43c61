package media

import "strings"

// Codec names an audio codec both endpoint kinds negotiate. Sinks and
// endpoints compare codecs by this value, never by parsing names per frame.
type Codec uint8

// The codecs of the media core.
const (
	CodecNone Codec = iota
	CodecOpus       // RFC 7587: opus/48000/2, PCM at the endpoint's rate
	CodecPCMU       // G.711 µ-law, 8000 Hz
	CodecPCMA       // G.711 A-law, 8000 Hz
)

// String returns the SDP encoding name in its usual case ("opus", "PCMU",
// "PCMA"), "" for CodecNone.
func (c Codec) String() string {
	switch c {
	case CodecOpus:
		return "opus"
	case CodecPCMU:
		return "PCMU"
	case CodecPCMA:
		return "PCMA"
	}
	return ""
}

// Clock returns the codec's RTP clock rate (48000 for Opus whatever the
// PCM rate), 0 for CodecNone.
func (c Codec) Clock() uint32 {
	switch c {
	case CodecOpus:
		return 48000
	case CodecPCMU, CodecPCMA:
		return 8000
	}
	return 0
}

// G711 reports whether the codec is a G.711 law: one byte per 8000 Hz
// sample, so a payload can be relayed and re-framed as it is.
func (c Codec) G711() bool { return c == CodecPCMU || c == CodecPCMA }

// CodecByName maps an SDP encoding name or a MIME type ("audio/opus"),
// any case, and its clock rate to a Codec; CodecNone when it is not one.
func CodecByName(name string, clock uint32) Codec {
	name = strings.TrimPrefix(strings.ToLower(name), "audio/")
	for _, c := range [...]Codec{CodecOpus, CodecPCMU, CodecPCMA} {
		if strings.EqualFold(name, c.String()) && clock == c.Clock() {
			return c
		}
	}
	return CodecNone
}
