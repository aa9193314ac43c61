package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"

	"github.com/softswitch/softswitch/media/dtlssrtp"
)

// The emulated browser's transport, built from pion's lower layers
// instead of a PeerConnection: a minimal ICE controlling agent (STUN
// binding requests with USE-CANDIDATE, answers to the peer's checks),
// DTLS once per call (pion/dtls, the browser as DTLS server, setup:actpass
// in the offer, the peer's certificate checked against the answer's
// fingerprint), then SRTP with pion/srtp contexts on the bare socket: one
// receive goroutine per call and no goroutine hand-offs per packet.

// benchCert is the one certificate every emulated browser uses.
type benchCert = dtlssrtp.Certificate

func newCertificate() (*benchCert, error) { return dtlssrtp.NewCertificate() }

// remoteMedia is what the emulated browser needs from an answer.
type remoteMedia struct {
	ufrag, pwd  string
	fingerprint string // sha-256
	setup       string // active or passive
	addr        *net.UDPAddr
}

// parseAnswer reads ICE credentials, the DTLS fingerprint and role and the
// first IPv4 UDP host candidate (or the c=/m= address) from an answer.
func parseAnswer(sdp []byte) (remoteMedia, error) {
	var r remoteMedia
	var cIP string
	mPort := 0
	sc := bufio.NewScanner(bytes.NewReader(sdp))
	for n := 0; sc.Scan() && n < 1000; n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			r.ufrag = line[len("a=ice-ufrag:"):]
		case strings.HasPrefix(line, "a=ice-pwd:"):
			r.pwd = line[len("a=ice-pwd:"):]
		case strings.HasPrefix(line, "a=fingerprint:"):
			alg, fp, _ := strings.Cut(line[len("a=fingerprint:"):], " ")
			if strings.EqualFold(alg, "sha-256") {
				r.fingerprint = strings.ToUpper(strings.TrimSpace(fp))
			}
		case strings.HasPrefix(line, "a=setup:"):
			r.setup = line[len("a=setup:"):]
		case strings.HasPrefix(line, "c=IN IP4 "):
			cIP = line[len("c=IN IP4 "):]
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			mPort, _ = strconv.Atoi(f[1])
		case strings.HasPrefix(line, "a=candidate:") && r.addr == nil:
			// foundation component transport priority ip port typ type
			f := strings.Fields(line)
			if len(f) >= 8 && f[1] == "1" && strings.EqualFold(f[2], "udp") {
				ip := net.ParseIP(f[4]).To4()
				port, err := strconv.Atoi(f[5])
				if ip != nil && err == nil && port > 0 {
					r.addr = &net.UDPAddr{IP: ip, Port: port}
				}
			}
		}
	}
	if r.addr == nil && cIP != "" && mPort > 0 {
		r.addr = &net.UDPAddr{IP: net.ParseIP(cIP), Port: mPort}
	}
	switch {
	case r.ufrag == "" || r.pwd == "":
		return r, errors.New("answer: no ICE credentials")
	case r.fingerprint == "":
		return r, errors.New("answer: no sha-256 fingerprint")
	case r.setup != "active" && r.setup != "passive":
		return r, fmt.Errorf("answer: a=setup:%s (want active or passive)", r.setup)
	case r.addr == nil:
		return r, errors.New("answer: no IPv4 UDP address")
	}
	return r, nil
}

// iceState is the browser's side of ICE: it is the controlling agent.
type iceState struct {
	ufrag, pwd string // local
	tieBreaker uint64
	mu         sync.Mutex
	remote     remoteMedia
	txID       [stun.TransactionIDSize]byte // of the last nominating check
	selected   chan netip.AddrPort          // the check's success, once
}

// bindingRequest builds a nominating check to the remote candidate.
func (s *iceState) bindingRequest() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.txID = stun.NewTransactionID()
	m, err := stun.Build(stun.NewTransactionIDSetter(s.txID), stun.BindingRequest,
		stun.NewUsername(s.remote.ufrag+":"+s.ufrag),
		ice.PriorityAttr(2130706431), ice.AttrControlling(s.tieBreaker), ice.UseCandidate(),
		stun.NewShortTermIntegrity(s.remote.pwd), stun.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("stun: %w", err)
	}
	return m.Raw, nil
}

// handleSTUN answers the peer's checks (a full-ICE peer such as rtpengine
// sends them) and notes the success of our own. It returns a response to
// send, if any. STUN is rare (set-up and keep-alives): it may allocate.
func (s *iceState) handleSTUN(pkt []byte, from netip.AddrPort) []byte {
	m := &stun.Message{Raw: append([]byte(nil), pkt...)}
	if err := m.Decode(); err != nil {
		return nil
	}
	s.mu.Lock()
	remotePwd, txID := s.remote.pwd, s.txID
	s.mu.Unlock()
	switch m.Type {
	case stun.BindingSuccess:
		if m.TransactionID != txID || remotePwd == "" || stun.NewShortTermIntegrity(remotePwd).Check(m) != nil {
			return nil
		}
		select {
		case s.selected <- from:
		default:
		}
	case stun.BindingRequest:
		var u stun.Username
		if u.GetFrom(m) != nil || !strings.HasPrefix(u.String(), s.ufrag+":") {
			return nil
		}
		if stun.NewShortTermIntegrity(s.pwd).Check(m) != nil {
			return nil
		}
		addr := net.UDPAddrFromAddrPort(from)
		r, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: addr.IP, Port: addr.Port},
			stun.NewShortTermIntegrity(s.pwd), stun.Fingerprint)
		if err != nil {
			return nil
		}
		return r.Raw
	}
	return nil
}

// dtlsConfig: the browser is the DTLS server when the answer says active
// (as the softswitch and browsers do), the client when it says passive;
// the peer's certificate must match the answer's fingerprint.
func dtlsConfig(cert *benchCert, fingerprint string) *dtls.Config {
	return dtlssrtp.Config(cert, fingerprint)
}
