package rtpep

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/stream"
)

// Defaults applied to zero Config fields.
const (
	DefaultRTPTimeout  = 30 * time.Second
	DefaultJitterDepth = 3
)

// Config configures an Endpoint. The zero value of each field means its
// default; IP is required.
type Config struct {
	// IP is the address bound and written into SDP (c= and o=), e.g.
	// "127.0.0.1" or the host's public address. It must be a specific
	// unicast address.
	IP string `yaml:"ip"`
	// Ports hands out RTP ports (RTCP is RTP+1). Nil lets the OS choose an
	// even/odd pair.
	Ports *PortPool `yaml:"-"`
	// Codecs are offered and accepted in this preference order: "PCMU",
	// "PCMA" and "opus" (any case); default {"PCMU", "PCMA"}. Opus is
	// offered as PT 111 (RFC 7587) and its PCM side is 8000 Hz too.
	// telephone-event/8000 (PT 101) is always offered, and
	// telephone-event/48000 (PT 110) with Opus.
	Codecs []string `yaml:"codecs"`
	// RTPTimeout reports media.EventTimeout once when no RTP arrived for
	// this long after the first packet (while receiving is expected: not
	// on hold). Zero means 30s; a negative value disables the timeout.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// JitterDepth is the reorder window in 20 ms frames; default 3. Audio
	// plays when it arrives; a gap waits for a late packet until the
	// window's newest slot is filled or 20 ms have passed.
	JitterDepth int `yaml:"jitter_depth"`
	// SignalIP is the address the peer's SIP comes from, if known. When
	// the peer's SDP names an address behind a NAT, RTP from this host is
	// preferred while its real source is learned (a third party that sent
	// first loses the latch as soon as the peer's own packets arrive).
	SignalIP netip.Addr `yaml:"-"`
}

// codecDesc is a codec this package can negotiate, with what differs
// between codecs in SDP. Encoding and decoding are media/stream's.
type codecDesc struct {
	codec    media.Codec
	name     string // SDP encoding name, canonical case
	pt       uint8  // payload type used in our offers: static (RFC 3551) or dynamic
	clock    uint32 // RTP clock rate, also telephone-event's (RFC 4733 §2.1)
	channels int    // rtpmap channel count; 0: not written, not checked
	fmtp     string // format parameters in our SDP, "" for none
	tePT     uint8  // telephone-event payload type at clock in our offers
}

const (
	pcmRate     = 8000 // the PCM rate of new endpoints (SetRate changes Opus's)
	g711Clock   = 8000
	opusName    = "opus"
	opusPT      = 111 // dynamic, as browsers and webrtcep use it
	opusFmtp    = "minptime=10;useinbandfec=1"
	teName      = "telephone-event"
	teFmtp      = "0-16"
	te8PT       = 101 // telephone-event/8000 in our offers
	te48PT      = 110 // telephone-event/48000 in our offers with Opus
	maxCodecs   = 8
	maxPacket   = stream.MaxPacket
	sessionName = "-"
)

func lookupCodec(name string) (codecDesc, bool) {
	switch {
	case strings.EqualFold(name, g711.PCMU):
		return g711Desc(media.CodecPCMU, 0), true
	case strings.EqualFold(name, g711.PCMA):
		return g711Desc(media.CodecPCMA, 8), true
	case strings.EqualFold(name, opusName):
		// RFC 7587 §7: always opus/48000/2, whatever is sent.
		return codecDesc{codec: media.CodecOpus, name: opusName, pt: opusPT, clock: opus.ClockRate,
			channels: 2, fmtp: opusFmtp, tePT: te48PT}, true
	}
	return codecDesc{}, false
}

// g711Desc describes a G.711 law: one byte per 8000 Hz sample.
func g711Desc(c media.Codec, pt uint8) codecDesc {
	return codecDesc{codec: c, name: c.String(), pt: pt, clock: g711Clock, tePT: te8PT}
}

// matches reports whether a peer's format is this codec: the name
// (case-insensitive), the clock rate and, when we write one, the channel
// count or none (RFC 7587 §7).
func (d codecDesc) matches(f format) bool {
	return f.rate == int(d.clock) && strings.EqualFold(f.name, d.name) &&
		(d.channels == 0 || f.channels == 0 || f.channels == d.channels)
}

// codecSet is the validated codec list of one endpoint, in preference order.
type codecSet struct {
	desc []codecDesc
}

// settings is Config with defaults applied and values checked.
type settings struct {
	ip      netip.Addr
	ports   *PortPool
	codecs  codecSet
	timeout time.Duration // <= 0: disabled
	depth   int
	signal  netip.Addr
}

func (cfg Config) settings() (settings, error) {
	var s settings
	ip, err := netip.ParseAddr(cfg.IP)
	if err != nil {
		return s, fmt.Errorf("%w: ip %q: %w", ErrConfig, cfg.IP, err)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsMulticast() || ip.Zone() != "" {
		return s, fmt.Errorf("%w: ip %q is not a unicast address for SDP", ErrConfig, cfg.IP)
	}
	s.ip, s.ports, s.signal = ip, cfg.Ports, cfg.SignalIP
	names := cfg.Codecs
	if len(names) == 0 {
		names = []string{g711.PCMU, g711.PCMA}
	}
	if len(names) > maxCodecs {
		return s, fmt.Errorf("%w: %d codecs", ErrConfig, len(names))
	}
	for _, n := range names {
		if err := s.codecs.add(n); err != nil {
			return s, err
		}
	}
	switch {
	case cfg.RTPTimeout == 0:
		s.timeout = DefaultRTPTimeout
	case cfg.RTPTimeout > 0:
		s.timeout = cfg.RTPTimeout
	}
	s.depth = cfg.JitterDepth
	if s.depth <= 0 {
		s.depth = DefaultJitterDepth
	}
	return s, nil
}

func (c *codecSet) add(name string) error {
	d, ok := lookupCodec(name)
	if !ok {
		return fmt.Errorf("%w: codec %q is not supported (PCMU, PCMA, opus)", ErrConfig, name)
	}
	if c.index(d.name) < 0 {
		c.desc = append(c.desc, d)
	}
	return nil
}

// offeredTE is the telephone-event formats of our offers: /8000 (PT
// 101) always, and one at each other clock of our codecs (PT 110 at
// 48000 with Opus).
func (c *codecSet) offeredTE() []ptTE {
	tes := []ptTE{{pt: te8PT, clock: g711Clock}}
	for _, d := range c.desc {
		if !slices.ContainsFunc(tes, func(te ptTE) bool { return te.clock == d.clock }) {
			tes = append(tes, ptTE{pt: d.tePT, clock: d.clock})
		}
	}
	return tes
}

// index returns the position of codec name (case-insensitive), or -1.
func (c *codecSet) index(name string) int {
	for i, d := range c.desc {
		if strings.EqualFold(d.name, name) {
			return i
		}
	}
	return -1
}
