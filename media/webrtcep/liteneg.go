package webrtcep

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// The lite engine's offer/answer (RFC 3264, RFC 8829's SDP as browsers
// read it), built by hand instead of by a PeerConnection.

// localBase fills what every SDP of ours says. e.mu is held.
func (e *Endpoint) localBase(setup string) localSDP {
	c := e.lite
	e.sdpVersion++
	c.mu.Lock()
	ice, started, client := c.local, c.started, c.client
	c.mu.Unlock()
	if started { // the DTLS roles are settled: keep them (RFC 5763 §5)
		setup = "passive"
		if client {
			setup = "active"
		}
	}
	a := c.addr()
	return localSDP{sessID: e.sdpSession, version: e.sdpVersion, ip: a.Addr().String(), port: int(a.Port()),
		ice: ice, fingerprint: c.cert.Fingerprint, setup: setup, ssrc: e.s.SSRC(), dir: "sendrecv", mid: "0", mids: []string{"0"}}
}

// liteOffer makes our offer: setup:actpass, every codec of ours. e.mu is held.
func (e *Endpoint) liteOffer() ([]byte, error) {
	l := e.localBase("actpass")
	l.codecs = registeredCodecs()
	e.vOffered = ourVideoCodecs(e.vOffer)
	if len(e.vOffered) > 0 {
		l.video = &localVideo{index: 1, mid: "1", dir: "sendrecv", ssrc: e.lite.video.ssrc, codecs: e.vOffered}
	}
	body := l.marshal()
	if err := e.installLocal(body); err != nil {
		return nil, err
	}
	e.offered = true
	return body, nil
}

// liteAnswer answers the peer's offer, initial or a re-offer (hold, ICE
// restart: new credentials of ours too). e.mu is held.
func (e *Endpoint) liteAnswer(offer []byte, off audioSDP) ([]byte, error) {
	p, err := readPeerSDP(offer)
	if err != nil {
		return nil, err
	}
	ch, ok := chooseSend(p.codecs)
	if !ok {
		return nil, fmt.Errorf("%w: the offer has none of opus, PCMU, PCMA", ErrNoCommonCodec)
	}
	if err := e.lite.restartICE(p.remote.ice); err != nil {
		return nil, err
	}
	l := e.localBase(localSetup(p.remote.setup))
	l.codecs, l.rejected, l.mids, l.audio = p.codecs, p.lines, p.mids, p.audio
	l.dir = answerDirection(off.send, off.recv)
	if p.mids[p.audio] != "" {
		l.mid = p.mids[p.audio]
	}
	l.video = e.answerVideo(p)
	body := l.marshal()
	if err := e.lite.setRemote(p.remote, true); err != nil {
		return nil, err
	}
	if err := e.installLocal(body); err != nil {
		return nil, err
	}
	e.offered = false
	e.s.SetSend(ch.send)
	if l.video != nil {
		e.lite.video.m.Store(newVideoMap(l.video.codecs))
	} else {
		e.lite.video.m.Store(nil)
	}
	e.log.Debug("webrtc negotiated", "codec", ch.send.Codec.String(), "pt", ch.send.PT, "te", ch.send.TE, "video", codecNames(videoCodecsOf(l.video)))
	return body, nil
}

// answerVideo is our video m-line answering the peer's offer p: its
// relayable codecs that AcceptVideo allowed, on the audio's transport;
// nil (the line rejected with port 0) without any, or when the line has
// no a=mid to BUNDLE it by. It notes what the peer offered. e.mu is held.
func (e *Endpoint) answerVideo(p peerSDP) *localVideo {
	v := p.video
	e.vPeer = nil
	if v.index < 0 || v.rejected {
		return nil
	}
	e.vPeer = codecNames(v.codecs)
	cs := withoutPTs(keepCodecs(v.codecs, e.vAccept), p.codecs)
	if len(cs) == 0 || v.mid == "" {
		return nil
	}
	return &localVideo{index: v.index, mid: v.mid, dir: answerDirection(v.send, v.recv), ssrc: e.lite.video.ssrc, codecs: cs}
}

// acceptVideo takes the video of the peer's answer to our offer: the
// codecs of ours it kept, at our payload types. e.mu is held.
func (e *Endpoint) acceptVideo(p peerSDP) {
	v := p.video
	var cs []videoCodec
	if len(e.vOffered) > 0 && v.index >= 0 && !v.rejected {
		for _, c := range withoutPTs(v.codecs, p.codecs) {
			for _, o := range e.vOffered {
				if o.name == c.name && o.pt == c.pt {
					cs = append(cs, c)
				}
			}
		}
	}
	e.vPeer = codecNames(cs)
	// A re-offer of the peer's keeps the video it accepted.
	e.vAccept = e.vPeer
	e.lite.video.m.Store(newVideoMap(cs))
}

// withoutPTs drops the video codecs whose payload type the audio uses:
// on one transport (BUNDLE) a payload type names one codec.
func withoutPTs(cs []videoCodec, audio []webrtc.RTPCodecParameters) []videoCodec {
	var out []videoCodec
	for _, c := range cs {
		clash := false
		for _, a := range audio {
			clash = clash || uint8(a.PayloadType) == c.pt
		}
		if !clash {
			out = append(out, c)
		}
	}
	return out
}

func videoCodecsOf(v *localVideo) []videoCodec {
	if v == nil {
		return nil
	}
	return v.codecs
}

// liteAccept takes the peer's answer to our offer. e.mu is held.
func (e *Endpoint) liteAccept(answer []byte) error {
	p, err := readPeerSDP(answer)
	if err != nil {
		return err
	}
	ch, ok := chooseSend(p.codecs)
	if !ok {
		return ErrNoCommonCodec
	}
	a, err := audioTable(string(answer))
	if err != nil {
		return err
	}
	if err := e.lite.setRemote(p.remote, false); err != nil {
		return err
	}
	// The peer sends the first codec of its answer, at our payload types.
	t := e.s.Receiving()
	t.SetPrimary(a.first)
	e.s.SetReceive(t)
	e.setSending(&a.recv, nil)
	e.s.SetReceiving(a.send)
	e.s.SetSend(ch.send)
	e.acceptVideo(p)
	e.offered = false
	e.log.Debug("webrtc negotiated", "codec", ch.send.Codec.String(), "pt", ch.send.PT, "te", ch.send.TE, "video", e.vPeer)
	return nil
}

// installLocal sets the receive table and direction of our SDP.
func (e *Endpoint) installLocal(body []byte) error {
	a, err := audioTable(string(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNegotiation, err)
	}
	e.s.SetReceive(a.table)
	e.setSending(&a.send, nil)
	e.s.SetReceiving(a.recv)
	return nil
}

// restartICE renews our credentials when the peer's changed (an ICE
// restart, RFC 8445 §9): the first credentials of the peer are taken as
// they are.
func (c *liteConn) restartICE(remote iceCreds) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.remote.ice.ufrag == "" || c.remote.ice == remote {
		return nil
	}
	local, err := newICECreds()
	if err != nil {
		return err
	}
	c.local = local
	return nil
}

// randUint32 is a random SSRC or session id part.
func randUint32() (uint32, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("random: %w", err)
	}
	return binary.BigEndian.Uint32(b[:]), nil
}
