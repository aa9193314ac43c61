package rtpep

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/g711"
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
	// Codecs are offered and accepted in this preference order; default
	// {"PCMU", "PCMA"}. telephone-event/8000 (PT 101) is always offered.
	Codecs []string `yaml:"codecs"`
	// RTPTimeout reports media.EventTimeout once when no RTP arrived for
	// this long after the first packet (while receiving is expected: not
	// on hold). Zero means 30s; a negative value disables the timeout.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// JitterDepth is the jitter buffer window in 20 ms frames; default 3
	// (about 40 ms of added latency, 60 ms at most).
	JitterDepth int `yaml:"jitter_depth"`
}

// codecDesc is a codec this package can negotiate. All are 8000 Hz mono
// with one byte per sample (G.711).
type codecDesc struct {
	name string // SDP encoding name, canonical case
	pt   uint8  // static payload type (RFC 3551) used in our offers
}

const (
	clockRate   = 8000
	frameSize   = 160 // samples (and G.711 bytes) per 20 ms frame
	tePT        = 101 // telephone-event payload type in our offers
	teName      = "telephone-event"
	teFmtp      = "0-16"
	maxCodecs   = 8
	rtpHdrSize  = 12
	maxPacket   = 1500
	sessionName = "-"
)

func lookupCodec(name string) (codecDesc, bool) {
	switch {
	case strings.EqualFold(name, g711.PCMU):
		return codecDesc{name: g711.PCMU, pt: 0}, true
	case strings.EqualFold(name, g711.PCMA):
		return codecDesc{name: g711.PCMA, pt: 8}, true
	}
	return codecDesc{}, false
}

// codecSet is the validated codec list of one endpoint with a stateless
// encoder and a decoder per codec, created once.
type codecSet struct {
	desc []codecDesc
	enc  []codecs.Encoder
	dec  []codecs.Decoder
}

// settings is Config with defaults applied and values checked.
type settings struct {
	ip      netip.Addr
	ports   *PortPool
	codecs  codecSet
	timeout time.Duration // <= 0: disabled
	depth   int
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
	s.ip, s.ports = ip, cfg.Ports
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
		return fmt.Errorf("%w: codec %q is not supported (PCMU, PCMA)", ErrConfig, name)
	}
	if c.index(d.name) >= 0 {
		return nil
	}
	enc, err := g711.NewEncoder(d.name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	dec, err := g711.NewDecoder(d.name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.desc = append(c.desc, d)
	c.enc = append(c.enc, enc)
	c.dec = append(c.dec, dec)
	return nil
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
