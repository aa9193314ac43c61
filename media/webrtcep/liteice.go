package webrtcep

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/pion/stun/v4"
)

// iceCreds are one side's ICE credentials (RFC 8445 §5.3).
type iceCreds struct{ ufrag, pwd string }

// newICECreds makes random local credentials from 168 random bits: a
// 4-character ufrag and a 24-character password (RFC 8445 §5.3 wants at
// least 24 and 128 bits).
func newICECreds() (iceCreds, error) {
	var b [21]byte
	if _, err := rand.Read(b[:]); err != nil {
		return iceCreds{}, fmt.Errorf("ice credentials: %w", err)
	}
	s := base64.RawURLEncoding.EncodeToString(b[:])        // 28 characters
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s) // ice-char: ALPHA / DIGIT / "+" / "/"
	return iceCreds{ufrag: s[:4], pwd: s[4:]}, nil
}

var (
	errSTUNType      = errors.New("not a binding request")
	errSTUNUser      = errors.New("username is not ours")
	errSTUNIntegrity = errors.New("message-integrity does not match our ice-pwd")
)

// answerCheck validates a connectivity check as the ICE-lite agent does
// (RFC 8445 §7.3: a binding request with our ufrag first in USERNAME, a
// FINGERPRINT, and MESSAGE-INTEGRITY keyed with our ice-pwd) and builds
// the success response with the sender's address. nominated reports
// USE-CANDIDATE. Checks are rare (set-up, then RFC 7675 consent every few
// seconds): this may allocate.
func answerCheck(pkt []byte, from netip.AddrPort, local iceCreds) (resp []byte, nominated bool, err error) {
	m := &stun.Message{Raw: append([]byte(nil), pkt...)}
	if err := m.Decode(); err != nil {
		return nil, false, fmt.Errorf("stun: %w", err)
	}
	if m.Type != stun.BindingRequest {
		return nil, false, fmt.Errorf("stun: %w: %s", errSTUNType, m.Type)
	}
	if err := stun.Fingerprint.Check(m); err != nil {
		return nil, false, fmt.Errorf("stun: %w", err)
	}
	var u stun.Username
	if err := u.GetFrom(m); err != nil {
		return nil, false, fmt.Errorf("stun: %w", err)
	}
	if !strings.HasPrefix(u.String(), local.ufrag+":") {
		return nil, false, fmt.Errorf("stun: %w", errSTUNUser)
	}
	if err := stun.NewShortTermIntegrity(local.pwd).Check(m); err != nil {
		return nil, false, fmt.Errorf("stun: %w", errSTUNIntegrity)
	}
	addr := net.UDPAddrFromAddrPort(from)
	r, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: addr.IP, Port: addr.Port},
		stun.NewShortTermIntegrity(local.pwd), stun.Fingerprint)
	if err != nil {
		return nil, false, fmt.Errorf("stun response: %w", err)
	}
	return r.Raw, m.Contains(stun.AttrUseCandidate), nil
}

// packetClass is what the first byte of a datagram says it is (RFC 7983 §7).
type packetClass int

const (
	classUnknown packetClass = iota
	classSTUN
	classDTLS
	classRTP
	classRTCP
)

// classify demultiplexes one datagram on the call's socket: STUN
// [0..3], DTLS [20..63], RTP/RTCP [128..191], RTCP told from RTP by its
// packet type (RFC 5761 §4: 192-223 in the second byte).
func classify(pkt []byte) packetClass {
	if len(pkt) < 2 {
		return classUnknown
	}
	switch b := pkt[0]; {
	case b < 4:
		return classSTUN
	case b >= 20 && b < 64:
		return classDTLS
	case b >= 128 && b < 192:
		if len(pkt) < 12 && !(pkt[1] >= 192 && pkt[1] <= 223) {
			return classUnknown
		}
		if pkt[1] >= 192 && pkt[1] <= 223 {
			return classRTCP
		}
		return classRTP
	}
	return classUnknown
}
