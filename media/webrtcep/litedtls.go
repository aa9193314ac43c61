package webrtcep

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/deadline"
)

// liteCert is the factory's DTLS certificate for the lite engine.
type liteCert struct {
	tls         tls.Certificate
	fingerprint string // sha-256, upper-case hex with colons
}

func newLiteCert() (*liteCert, error) {
	c, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, fmt.Errorf("dtls certificate: %w", err)
	}
	return &liteCert{tls: c, fingerprint: fingerprintOf(c.Certificate[0])}, nil
}

// fingerprintOf is the SDP sha-256 fingerprint of a DER certificate.
func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// errFingerprint is a peer certificate that is not the one its SDP named.
var errFingerprint = errors.New("peer certificate does not match the sdp fingerprint")

// dtlsConfig accepts the peer's self-signed certificate when its sha-256
// fingerprint is the one of the SDP (RFC 5763 §5).
func dtlsConfig(cert *liteCert, fingerprint string) *dtls.Config {
	return &dtls.Config{
		Certificates:           []tls.Certificate{cert.tls},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80},
		ExtendedMasterSecret:   dtls.RequestExtendedMasterSecret,
		ClientAuth:             dtls.RequireAnyClientCert,
		InsecureSkipVerify:     true, // self-signed: the fingerprint is the check
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return fmt.Errorf("%w: none sent", errFingerprint)
			}
			if got := fingerprintOf(raw[0]); !strings.EqualFold(got, fingerprint) {
				return fmt.Errorf("%w: %s, sdp says %s", errFingerprint, got, fingerprint)
			}
			return nil
		},
	}
}

// srtpContexts derives our sending and receiving SRTP contexts from the
// DTLS session (RFC 5764 §4.2); the receiving one rejects replays.
func srtpContexts(c *dtls.Conn, isClient bool) (tx, rx *srtp.Context, err error) {
	var cfg srtp.Config
	sel, ok := c.SelectedSRTPProtectionProfile()
	switch {
	case !ok:
		return nil, nil, errors.New("no srtp protection profile negotiated")
	case sel == dtls.SRTP_AEAD_AES_128_GCM:
		cfg.Profile = srtp.ProtectionProfileAeadAes128Gcm
	case sel == dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		cfg.Profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return nil, nil, fmt.Errorf("unexpected srtp profile %v", sel)
	}
	state, ok := c.ConnectionState()
	if !ok {
		return nil, nil, errors.New("dtls: no connection state")
	}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, isClient); err != nil {
		return nil, nil, fmt.Errorf("srtp keys: %w", err)
	}
	if tx, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile); err != nil {
		return nil, nil, fmt.Errorf("srtp: %w", err)
	}
	rx, err = srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, cfg.Profile,
		srtp.SRTPReplayProtection(64), srtp.SRTCPReplayProtection(64))
	if err != nil {
		return nil, nil, fmt.Errorf("srtp: %w", err)
	}
	return tx, rx, nil
}

// dtlsPipe is the net.PacketConn pion/dtls runs on: the endpoint's reader
// demultiplexes the socket and delivers DTLS records here; writes go to
// the selected peer on the socket.
type dtlsPipe struct {
	conn   *net.UDPConn
	mu     sync.Mutex
	peer   netip.AddrPort
	in     chan []byte
	rd     *deadline.Deadline
	once   sync.Once
	closed chan struct{}
}

// dtlsQueue bounds the records waiting for the handshake.
const dtlsQueue = 32

func newDTLSPipe(conn *net.UDPConn) *dtlsPipe {
	return &dtlsPipe{conn: conn, in: make(chan []byte, dtlsQueue), rd: deadline.New(), closed: make(chan struct{})}
}

func (p *dtlsPipe) setPeer(ap netip.AddrPort) {
	p.mu.Lock()
	p.peer = ap
	p.mu.Unlock()
}

func (p *dtlsPipe) getPeer() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peer
}

// deliver hands a record to DTLS, dropping it when the queue is full
// (DTLS retransmits); it reports whether it was queued.
func (p *dtlsPipe) deliver(pkt []byte) bool {
	select {
	case p.in <- append([]byte(nil), pkt...):
		return true
	default:
		return false
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (p *dtlsPipe) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-p.in:
		return copy(b, d), net.UDPAddrFromAddrPort(p.getPeer()), nil
	case <-p.closed:
		return 0, nil, net.ErrClosed
	case <-p.rd.Done():
		return 0, nil, timeoutError{}
	}
}

func (p *dtlsPipe) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-p.closed:
		return 0, net.ErrClosed
	default:
	}
	peer := p.getPeer()
	if !peer.IsValid() {
		return 0, errors.New("dtls write: no peer address yet")
	}
	n, err := p.conn.WriteToUDPAddrPort(b, peer)
	if err != nil {
		return n, fmt.Errorf("dtls write: %w", err)
	}
	return n, nil
}

func (p *dtlsPipe) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *dtlsPipe) LocalAddr() net.Addr { return p.conn.LocalAddr() }

func (p *dtlsPipe) SetDeadline(t time.Time) error     { p.rd.Set(t); return nil }
func (p *dtlsPipe) SetReadDeadline(t time.Time) error { p.rd.Set(t); return nil }
func (p *dtlsPipe) SetWriteDeadline(time.Time) error  { return nil }
