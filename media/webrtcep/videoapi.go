package webrtcep

// VideoCodecs lists the relayable video codecs (VideoVP8, VideoH264) of
// the last exchange: those the browser offered when we answered, those it
// accepted of our offer when we offered; nil without video, and always
// with the PeerConnection engine (audio only).
func (e *Endpoint) VideoCodecs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.vPeer...)
}

// OfferVideo makes our next offers carry a video m-line with codecs (VP8
// and H.264 at our payload types; others are ignored), BUNDLEd with the
// audio. Nil offers audio only, the default.
func (e *Endpoint) OfferVideo(codecs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lite == nil {
		return
	}
	e.vOffer = append([]string(nil), codecs...)
}

// AcceptVideo makes our next answers accept the browser's video with those
// of codecs it offered; nil declines its video (port 0), the default.
// It takes effect with the next Answer.
func (e *Endpoint) AcceptVideo(codecs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.lite == nil {
		return
	}
	e.vAccept = append([]string(nil), codecs...)
}

// RelayVideo forwards the video the browser sends to dst's browser, and
// the RTCP feedback the browser sends about the video it receives (PLI,
// FIR, NACK, REMB, reception reports) to dst's browser, the video's
// source when dst relays to e: call it on both endpoints. Nothing is
// decoded; payload types and SSRCs are rewritten per leg. Nil stops.
// Only lite endpoints relay video.
func (e *Endpoint) RelayVideo(dst *Endpoint) {
	if e.lite == nil {
		return
	}
	if dst == nil || dst.lite == nil {
		e.lite.video.to.Store(nil)
		return
	}
	dst.lite.video.fresh.Store(true)
	e.lite.video.to.Store(dst.lite)
}

// VideoStats counts the video relayed from and to the browser (zero
// with the PeerConnection engine).
func (e *Endpoint) VideoStats() VideoStats {
	if e.lite == nil {
		return VideoStats{}
	}
	return e.lite.videoStats()
}
