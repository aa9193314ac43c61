package webrtcep

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// audioTrack is our webrtc.TrackLocal. Unlike pion's TrackLocalStaticRTP
// it keeps the payload type of every packet, so audio and RFC 4733
// events share one SSRC and one sequence space.
type audioTrack struct{ e *Endpoint }

var _ webrtc.TrackLocal = (*audioTrack)(nil)

// Bind is called by pion once negotiation completes: it picks the send
// codec among the negotiated ones and keeps the write stream and SSRC.
func (t *audioTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	ch, ok := chooseSend(ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("bind audio track: %w", webrtc.ErrUnsupportedCodec)
	}
	e := t.e
	e.s.SetSSRC(uint32(ctx.SSRC()))
	e.s.SetSend(ch.send)
	e.tr.w.Store(&writer{w: ctx.WriteStream()})
	bound := true
	e.setSending(nil, &bound)
	return ch.params, nil
}

// Unbind stops sending.
func (t *audioTrack) Unbind(webrtc.TrackLocalContext) error {
	bound := false
	t.e.setSending(nil, &bound)
	t.e.tr.w.Store(nil)
	return nil
}

func (t *audioTrack) ID() string                { return "audio" }
func (t *audioTrack) RID() string               { return "" }
func (t *audioTrack) StreamID() string          { return "softswitch" }
func (t *audioTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }
