// Package dtlssrtp is DTLS-SRTP (RFC 5763, RFC 5764) on pion's lower
// layers, for peers that run it on a bare socket instead of a
// PeerConnection: a self-signed certificate and its SDP fingerprint, the
// DTLS configuration that accepts the peer's certificate only when it
// matches the fingerprint of the peer's SDP, and the SRTP contexts keyed
// from the finished handshake. media/webrtcep's lite engine and the load
// generator (bench/sysbench) use it.
package dtlssrtp

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/srtp/v3"
)

// ErrFingerprint is a peer certificate that is not the one its SDP named.
var ErrFingerprint = errors.New("dtlssrtp: peer certificate does not match the sdp fingerprint")

// Certificate is a self-signed DTLS certificate (ECDSA P-256) and its
// SDP fingerprint.
type Certificate struct {
	TLS         tls.Certificate
	Fingerprint string // sha-256, upper-case hex pairs joined by colons
}

// NewCertificate generates a self-signed certificate.
func NewCertificate() (*Certificate, error) {
	c, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, fmt.Errorf("dtls certificate: %w", err)
	}
	return &Certificate{TLS: c, Fingerprint: Fingerprint(c.Certificate[0])}, nil
}

// Fingerprint is the SDP sha-256 fingerprint (RFC 8122) of a DER certificate.
func Fingerprint(der []byte) string {
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

// Config is the DTLS configuration of either role: our certificate, the
// SRTP profiles browsers offer (AES-GCM first), the extended master
// secret, a client certificate required, and the peer's self-signed
// certificate accepted only when its sha-256 fingerprint is fingerprint
// (RFC 5763 §5), compared without regard to case.
func Config(cert *Certificate, fingerprint string) *dtls.Config {
	return &dtls.Config{
		Certificates:           []tls.Certificate{cert.TLS},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
		ClientAuth:             dtls.RequireAnyClientCert,
		InsecureSkipVerify:     true, // self-signed: the fingerprint is the check
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return fmt.Errorf("%w: none sent", ErrFingerprint)
			}
			if got := Fingerprint(raw[0]); !strings.EqualFold(got, fingerprint) {
				return fmt.Errorf("%w: %s, sdp says %s", ErrFingerprint, got, fingerprint)
			}
			return nil
		},
	}
}

// replayWindow is the SRTP and SRTCP replay window of a receiving context.
const replayWindow = 64

// Contexts derives the sending and receiving SRTP contexts from a
// finished handshake (RFC 5764 §4.2); the receiving one rejects replays.
func Contexts(c *dtls.Conn, isClient bool) (tx, rx *srtp.Context, err error) {
	var cfg srtp.Config
	sel, ok := c.SelectedSRTPProtectionProfile()
	switch {
	case !ok:
		return nil, nil, errors.New("dtlssrtp: no srtp protection profile negotiated")
	case sel == dtls.SRTP_AEAD_AES_128_GCM:
		cfg.Profile = srtp.ProtectionProfileAeadAes128Gcm
	case sel == dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		cfg.Profile = srtp.ProtectionProfileAes128CmHmacSha1_80
	default:
		return nil, nil, fmt.Errorf("dtlssrtp: unexpected srtp profile %v", sel)
	}
	state, ok := c.ConnectionState()
	if !ok {
		return nil, nil, errors.New("dtlssrtp: no connection state")
	}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, isClient); err != nil {
		return nil, nil, fmt.Errorf("dtlssrtp: srtp keys: %w", err)
	}
	if tx, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile); err != nil {
		return nil, nil, fmt.Errorf("dtlssrtp: %w", err)
	}
	rx, err = srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, cfg.Profile,
		srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow))
	if err != nil {
		return nil, nil, fmt.Errorf("dtlssrtp: %w", err)
	}
	return tx, rx, nil
}
