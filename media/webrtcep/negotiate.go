package webrtcep

import (
	"context"
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"
)

// Offer returns a non-trickle SDP offer (setup:actpass, ice-lite, our
// host candidate): the local description is set and candidates gathered
// before it returns.
func (e *Endpoint) Offer(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return nil, fmt.Errorf("offer: %w", ErrClosed)
	}
	if e.lite != nil {
		body, err := e.liteOffer()
		if err != nil {
			return nil, fmt.Errorf("offer: %w", err)
		}
		return body, nil
	}
	offer, err := e.pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("offer: %w: %w", ErrNegotiation, err)
	}
	body, err := e.setLocal(ctx, offer, "")
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	e.offered = true
	return body, nil
}

// Answer answers the browser's offer, initial or a re-offer (hold, ICE
// restart) on the same PeerConnection. As answerer pion adopts the
// offer's payload types and takes setup:active; Opus is chosen when
// offered.
func (e *Endpoint) Answer(ctx context.Context, offer []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	// Our own bounded parse first: malformed SDP is media.ErrBadSDP, no
	// audio or none of our codecs media.ErrNoCommonCodec (488), where pion
	// would only say it failed.
	off, err := audioTable(string(offer))
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	if !off.hasCodec() {
		return nil, fmt.Errorf("answer: %w: the offer has none of opus, PCMU, PCMA", ErrNoCommonCodec)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return nil, fmt.Errorf("answer: %w", ErrClosed)
	}
	if e.lite != nil {
		body, err := e.liteAnswer(offer, off)
		if err != nil {
			return nil, fmt.Errorf("answer: %w", err)
		}
		return body, nil
	}
	if e.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		// Glare or an abandoned offer of ours: the peer's offer wins.
		if err := e.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			return nil, fmt.Errorf("answer: rollback: %w: %w", ErrNegotiation, err)
		}
		e.offered = false
	}
	if err := e.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		return nil, fmt.Errorf("answer: %w: %w", ErrNegotiation, err)
	}
	answer, err := e.pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("answer: %w: %w", ErrNegotiation, err)
	}
	hold := ""
	if !off.recv {
		// pion answers sendrecv to a sendonly offer (hold) and refuses a
		// munged local answer; RFC 3264 §6.1 wants recvonly (inactive to
		// inactive): we say so in the SDP we return and stop sending.
		hold = "inactive"
		if off.send {
			hold = "recvonly"
		}
	}
	body, err := e.setLocal(ctx, answer, hold)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	if err := e.negotiated(); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	return body, nil
}

// Accept takes the browser's answer to our last Offer.
func (e *Endpoint) Accept(ctx context.Context, answer []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed.Load():
		return fmt.Errorf("accept: %w", ErrClosed)
	case !e.offered:
		return fmt.Errorf("accept: %w", ErrNoOffer)
	}
	if e.lite != nil {
		if err := e.liteAccept(answer); err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		return nil
	}
	if err := e.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return fmt.Errorf("accept: %w: %w", ErrNegotiation, err)
	}
	if a, err := audioTable(string(answer)); err == nil {
		// The browser sends the first codec of its answer, at the payload
		// types of our offer.
		t := e.s.Receiving()
		t.SetPrimary(a.first)
		e.s.SetReceive(t)
	}
	e.offered = false
	return e.negotiated()
}

// setLocal sets desc as the local description, waits for candidate
// gathering (instant with ICE-lite on the mux) and returns the SDP with
// the candidates, its direction replaced by hold when not empty. It
// installs the receive table of the local SDP (the payload types we
// receive) and the direction. e.mu is held.
func (e *Endpoint) setLocal(ctx context.Context, desc webrtc.SessionDescription, hold string) ([]byte, error) {
	gathered := webrtc.GatheringCompletePromise(e.pc)
	if err := e.pc.SetLocalDescription(desc); err != nil {
		return nil, fmt.Errorf("%w: set local description: %w", ErrNegotiation, err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	local := e.pc.LocalDescription()
	if local == nil {
		return nil, fmt.Errorf("%w: no local description", ErrNegotiation)
	}
	body := local.SDP
	if hold != "" {
		body = withDirection(body, hold)
	}
	a, err := audioTable(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNegotiation, err)
	}
	e.s.SetReceive(a.table)
	e.setSending(&a.send, nil)
	e.s.SetReceiving(a.recv)
	return []byte(body), nil
}

// negotiated refreshes the send codec after an offer/answer exchange;
// pion binds our track only once, a re-offer may change the codecs. No
// codec of ours in the exchange is ErrNoCommonCodec. e.mu is held.
func (e *Endpoint) negotiated() error {
	ch, ok := chooseSend(e.sender.GetParameters().Codecs)
	if !ok {
		return ErrNoCommonCodec
	}
	e.s.SetSend(ch.send)
	e.log.Debug("webrtc negotiated", "codec", ch.send.Codec.String(), "pt", ch.send.PT, "te", ch.send.TE)
	return nil
}

// withDirection replaces the sendrecv attribute of the audio m-line (our
// only media) with dir.
func withDirection(body, dir string) string {
	return strings.Replace(body, "\r\na=sendrecv\r\n", "\r\na="+dir+"\r\n", 1)
}
