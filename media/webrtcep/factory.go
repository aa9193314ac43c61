package webrtcep

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media/dtlssrtp"
	"github.com/softswitch/softswitch/media/udpread"
)

// Factory makes browser endpoints. There is one per process: it owns the
// UDP port all browser media shares, the webrtc.API and the DTLS
// certificate. Its methods are safe for concurrent use.
type Factory struct {
	set  settings
	log  *slog.Logger
	conn *net.UDPConn
	mux  *ice.UDPMuxDefault
	api  *webrtc.API
	cert webrtc.Certificate
	lc   *dtlssrtp.Certificate // the lite engine's certificate; conn, mux and api are nil then
	bufs udpread.Buffers       // the lite endpoints' datagram buffers, taken while a socket has datagrams

	mu     sync.Mutex
	closed bool
}

// NewFactory binds the shared UDP port on cfg.IP, builds the webrtc.API
// (ICE-lite on the UDP mux, IPv4 only, loopback candidates allowed, mDNS
// off, host candidate advertised on cfg.IP, hand-registered codecs, RTCP
// report interceptors only) and generates the DTLS certificate. A nil log
// discards.
func NewFactory(cfg Config, log *slog.Logger) (*Factory, error) {
	set, err := cfg.resolve()
	if err != nil {
		return nil, fmt.Errorf("new webrtc factory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if set.lite {
		lc, err := dtlssrtp.NewCertificate()
		if err != nil {
			return nil, fmt.Errorf("new webrtc factory: %w", err)
		}
		return &Factory{set: set, log: log.With("webrtc", "lite"), lc: lc}, nil
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: set.ip.AsSlice(), Port: set.port})
	if err != nil {
		return nil, fmt.Errorf("new webrtc factory: bind %s:%d: %w", set.ip, set.port, err)
	}
	f := &Factory{set: set, log: log.With("webrtc", conn.LocalAddr().String()), conn: conn}
	if err := f.build(); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("new webrtc factory: %w", err)
	}
	return f, nil
}

func (f *Factory) build() error {
	logs := pionLogs{log: f.log}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("dtls key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return fmt.Errorf("dtls certificate: %w", err)
	}
	me, err := newMediaEngine()
	if err != nil {
		return err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return fmt.Errorf("rtcp reports: %w", err)
	}
	f.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: f.conn, Logger: logs.NewLogger("ice-mux")})
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetLite(true)
	se.SetICEUDPMux(f.mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
		External:        []string{f.set.ip.String()},
		AsCandidateType: webrtc.ICECandidateTypeHost,
		Mode:            webrtc.ICEAddressRewriteReplace,
	}); err != nil {
		_ = f.mux.Close()
		return fmt.Errorf("address rewrite: %w", err)
	}
	f.cert = *cert
	f.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(reg))
	return nil
}

// Addr returns the bound UDP address all browser media shares; with the
// lite engine, where every call binds its own port, the IP and port 0.
func (f *Factory) Addr() *net.UDPAddr {
	if f.conn == nil {
		return &net.UDPAddr{IP: f.set.ip.AsSlice()}
	}
	a, _ := f.conn.LocalAddr().(*net.UDPAddr)
	return a
}

// Close releases the UDP port. Endpoints still open stop receiving; close
// them first.
func (f *Factory) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.mux == nil {
		return nil
	}
	err := f.mux.Close() // closes the shared conn too
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close webrtc factory: %w", err)
	}
	return nil
}

func (f *Factory) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}
