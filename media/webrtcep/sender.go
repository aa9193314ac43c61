package webrtcep

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/codecs"
	"github.com/softswitch/softswitch/codecs/g711"
	"github.com/softswitch/softswitch/codecs/opus"
	"github.com/softswitch/softswitch/media"
)

// gapForMarker is the pause in written frames after which the next packet
// starts a new talkspurt (marker bit, timestamp jumps by the pause).
const gapForMarker = 3 * media.FrameDuration

// sender is the send path: one SSRC whose sequence and timestamp space
// audio and telephone-event packets share.
type sender struct {
	mu sync.Mutex

	w  webrtc.TrackLocalWriter // nil until pion binds our track
	ch sendChoice
	on bool // the negotiated direction lets us send

	opus       *opus.Encoder // at opusRate; nil until Opus is chosen
	opusRate   int
	pcmu, pcma codecs.Encoder

	hdr        rtp.Header
	ts         uint32        // timestamp of the next audio frame
	started    bool          // a frame was sent since the stream (re)started
	marker     bool          // the next audio packet starts a talkspurt
	last       time.Duration // when the clock was last advanced
	inEvent    bool          // a DTMF event is playing: audio is suppressed
	eventStart time.Duration

	buf [maxPacket]byte
}

func (t *sender) init() {
	t.ch.te = -1
	t.on = true
	t.pcmu, _ = g711.NewEncoder(g711.PCMU) // the names are valid
	t.pcma, _ = g711.NewEncoder(g711.PCMA)
	t.hdr.Version = 2
	t.hdr.SequenceNumber = uint16(rand.Uint32())
	t.ts = rand.Uint32()
}

// bind installs pion's write stream for our SSRC.
func (t *sender) bind(w webrtc.TrackLocalWriter, ssrc uint32, ch sendChoice, rate int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.use(ch, rate); err != nil {
		return err
	}
	t.w, t.hdr.SSRC = w, ssrc
	return nil
}

func (t *sender) unbind() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w = nil
}

// choose installs a send codec after a negotiation.
func (t *sender) choose(ch sendChoice, rate int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.use(ch, rate)
}

// use sets the send codec, creating the Opus encoder when needed. t.mu is held.
func (t *sender) use(ch sendChoice, rate int) error {
	if ch.kind == kindOpus && (t.opus == nil || t.opusRate != rate) {
		enc, err := opus.NewEncoder(opus.Config{Rate: rate, FEC: true})
		if err != nil {
			return fmt.Errorf("opus encoder: %w", err)
		}
		t.opus, t.opusRate = enc, rate
	}
	if ch.kind != t.ch.kind {
		t.started = false
	}
	t.ch = ch
	return nil
}

// setRate recreates the Opus encoder at rate.
func (t *sender) setRate(rate int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.opus == nil {
		return nil
	}
	t.opus = nil
	return t.use(t.ch, rate)
}

func (t *sender) setOn(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if on && !t.on {
		t.started = false // resume: new talkspurt
	}
	t.on = on
}

// frameTicks is one 20 ms frame in RTP timestamp units of the codec.
func (t *sender) frameTicks() uint32 { return t.ch.kind.clock() / 50 }

// advance moves the timestamp clock to now: after a pause in the stream
// it jumps by the pause and marks a new talkspurt. t.mu is held.
func (t *sender) advance(now time.Duration) {
	if gap := now - t.last; t.last > 0 && gap >= gapForMarker {
		frames := (gap + media.FrameDuration/2) / media.FrameDuration
		t.ts += uint32(frames-1) * t.frameTicks()
		t.marker = true
	}
	if !t.started {
		t.started, t.marker = true, true
	}
	t.last = now
}

// write sends the n payload bytes in t.buf. t.mu is held.
func (t *sender) write(pt uint8, ts uint32, marker bool, n int) error {
	t.hdr.PayloadType, t.hdr.Timestamp, t.hdr.Marker = pt, ts, marker
	_, err := t.w.WriteRTP(&t.hdr, t.buf[:n])
	t.hdr.SequenceNumber++
	if err != nil {
		return fmt.Errorf("write rtp: %w", err)
	}
	return nil
}

// sendAudio sends n payload bytes in t.buf as the next audio packet
// covering ticks of the RTP clock. t.mu is held.
func (t *sender) sendAudio(n int, ticks uint32) error {
	ts, marker := t.ts, t.marker
	t.ts += ticks
	t.marker = false
	return t.write(t.ch.pt, ts, marker, n)
}
