package webrtcep

import (
	"fmt"
	"net/netip"
	"time"
)

// Defaults applied to zero Config fields.
const (
	DefaultPort       = 8443
	DefaultRTPTimeout = 30 * time.Second
	// DefaultDTLSTimeout bounds a call's DTLS handshake (lite engine).
	DefaultDTLSTimeout = 10 * time.Second
	// DefaultRate is the PCM rate of a new Endpoint: Opus at full quality.
	DefaultRate = 48000
)

// jitterDepth is the jitter buffer window in 20 ms frames (about 40 ms of
// added latency, 60 ms at most), as in media/rtpep.
const jitterDepth = 3

// Config configures a Factory. IP is required; the zero value of every
// other field means its default.
type Config struct {
	// IP is the IPv4 address of the host candidate (the softswitch's
	// --media-ip), e.g. "127.0.0.1". The UDP port is bound on it.
	IP string `yaml:"ip"`
	// Port is the one UDP port all browser media shares (ICE UDP mux).
	// 0 lets the OS choose (tests); production passes DefaultPort (8443).
	Port int `yaml:"port"`
	// RTPTimeout reports media.EventTimeout once when no RTP arrived for
	// this long after the first packet. Zero means 30s; a negative value
	// disables the timeout.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// Engine chooses the browser transport: EngineLite (the default: per
	// call one UDP socket, ICE-lite, pion/dtls and pion/srtp driven
	// directly) or EnginePeerConnection (a pion PeerConnection per call on
	// the shared Port).
	Engine string `yaml:"engine"`
	// DTLSTimeout ends a lite call (media.EventTimeout, reason logged)
	// whose DTLS handshake did not finish this long after it started
	// (the ICE pair and the peer's SDP known). Zero means 10s.
	DTLSTimeout time.Duration `yaml:"dtls_timeout"`
	// PortMin and PortMax bound the UDP port each lite call binds (a
	// firewall's range, e.g. the RTP range); zero lets the OS choose.
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
}

// Engines, for Config.Engine.
const (
	EngineLite           = "lite"
	EnginePeerConnection = "peerconnection"
)

// settings is Config with defaults applied and values checked.
type settings struct {
	ip          netip.Addr
	port        int
	timeout     time.Duration // <= 0: disabled
	depth       int
	lite        bool
	portMin     int
	portMax     int
	dtlsTimeout time.Duration
}

func (cfg Config) resolve() (settings, error) {
	var s settings
	ip, err := netip.ParseAddr(cfg.IP)
	if err != nil {
		return s, fmt.Errorf("%w: ip %q: %w", ErrConfig, cfg.IP, err)
	}
	ip = ip.Unmap()
	if !ip.Is4() || ip.IsUnspecified() || ip.IsMulticast() {
		return s, fmt.Errorf("%w: ip %q is not a unicast ipv4 address", ErrConfig, cfg.IP)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return s, fmt.Errorf("%w: port %d", ErrConfig, cfg.Port)
	}
	s.ip, s.port, s.depth = ip, cfg.Port, jitterDepth
	switch cfg.Engine {
	case "", EngineLite:
		s.lite = true
	case EnginePeerConnection:
	default:
		return s, fmt.Errorf("%w: engine %q (want %q or %q)", ErrConfig, cfg.Engine, EngineLite, EnginePeerConnection)
	}
	if cfg.PortMin != 0 || cfg.PortMax != 0 {
		if cfg.PortMin < 1 || cfg.PortMax > 65535 || cfg.PortMin > cfg.PortMax {
			return s, fmt.Errorf("%w: port range %d-%d", ErrConfig, cfg.PortMin, cfg.PortMax)
		}
		s.portMin, s.portMax = cfg.PortMin, cfg.PortMax
	}
	switch {
	case cfg.DTLSTimeout < 0:
		return s, fmt.Errorf("%w: dtls_timeout %s", ErrConfig, cfg.DTLSTimeout)
	case cfg.DTLSTimeout == 0:
		s.dtlsTimeout = DefaultDTLSTimeout
	default:
		s.dtlsTimeout = cfg.DTLSTimeout
	}
	switch {
	case cfg.RTPTimeout == 0:
		s.timeout = DefaultRTPTimeout
	case cfg.RTPTimeout > 0:
		s.timeout = cfg.RTPTimeout
	}
	return s, nil
}
