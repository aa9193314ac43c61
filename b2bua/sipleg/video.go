package sipleg

import (
	"context"
	"errors"
	"fmt"

	"github.com/softswitch/softswitch/b2bua/leg"
	"github.com/softswitch/softswitch/media/webrtcep"
)

// videoEndpoint is a media endpoint that relays video (webrtcep's).
type videoEndpoint interface {
	VideoCodecs() []string
	OfferVideo(codecs []string)
	AcceptVideo(codecs []string)
	RelayVideo(dst *webrtcep.Endpoint)
}

var (
	_ leg.Video = (*inLeg)(nil)
	_ leg.Video = (*outLeg)(nil)
)

// errAnswerSent is AcceptVideo once the caller has our answer.
var errAnswerSent = errors.New("accept video: the answer was sent already")

// VideoCodecs lists the video codecs the peer offered or accepted.
func (l *core) VideoCodecs() []string {
	if v, ok := l.ep.(videoEndpoint); ok {
		return v.VideoCodecs()
	}
	return nil
}

// RelayVideo forwards the video this leg's peer sends to to's peer.
func (l *core) RelayVideo(to leg.Video) {
	v, ok := l.ep.(videoEndpoint)
	if !ok {
		return
	}
	var dst *webrtcep.Endpoint
	if h, ok := to.(interface{ endpoint() any }); ok {
		dst, _ = h.endpoint().(*webrtcep.Endpoint)
	}
	v.RelayVideo(dst)
}

func (l *core) endpoint() any { return l.ep }

// AcceptVideo answers the caller's offer again, now accepting its video
// with codecs, while the answer is unsent (no 183 with SDP, no 200). An
// answer that cannot be made, or that no longer fits a UDP datagram, is
// given up: the video stays declined.
func (l *inLeg) AcceptVideo(ctx context.Context, codecs []string) error {
	v, ok := l.ep.(videoEndpoint)
	if !ok {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.answered || l.earlySent || l.lateOffer || len(l.offer) == 0 {
		return errAnswerSent
	}
	v.AcceptVideo(codecs)
	sdp, err := l.ep.Answer(ctx, l.offer)
	if err == nil && !l.m.fitsUDP(l.dlg.InviteRequest, sdp) {
		err = errTooLarge
	}
	if err != nil {
		v.AcceptVideo(nil)
		if again, err2 := l.ep.Answer(ctx, l.offer); err2 == nil {
			l.answer = again
		}
		return fmt.Errorf("accept video: %w", err)
	}
	l.answer = sdp
	return nil
}

// errTooLarge is an answer that would not fit a UDP datagram.
var errTooLarge = errors.New("the answer with video does not fit a UDP datagram")

// AcceptVideo on an outbound leg has nothing to do: the callee answered.
func (l *outLeg) AcceptVideo(context.Context, []string) error { return nil }
