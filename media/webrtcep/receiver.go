package webrtcep

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media/stream"
)

// readLoop is the buffer space of the RTP read goroutine.
type readLoop struct {
	buf [maxPacket]byte
	pkt stream.Packet
}

// onTrack starts reading a remote audio track, and the receiver's RTCP
// once per endpoint.
func (e *Endpoint) onTrack(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	e.log.Debug("webrtc remote track", "ssrc", uint32(tr.SSRC()), "codec", tr.Codec().MimeType)
	if !e.goTracked(func() { e.readRTP(tr) }) {
		return
	}
	e.life.Lock()
	start := !e.rtcpReading
	e.rtcpReading = true
	e.life.Unlock()
	if start {
		e.goTracked(func() { e.readRTCP(rcv.Read) })
	}
}

// readRTP reads one remote track into a reused buffer until it ends. The
// stream's receive side has one owner: a second track waits for the first
// reader to end. A read that times out is the stream's deadline.
func (e *Endpoint) readRTP(tr *webrtc.TrackRemote) {
	e.reader.Lock()
	defer e.reader.Unlock()
	e.tr.track.Store(tr)
	defer e.tr.track.Store(nil)
	rl := &readLoop{}
	for {
		n, _, err := tr.Read(rl.buf[:])
		if err != nil {
			if e.ended(err) {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				e.s.Wake()
			} else {
				e.s.Stray()
			}
			continue
		}
		if e.s.Parse(rl.buf[:n], &rl.pkt) {
			e.s.Receive(&rl.pkt)
		}
	}
}

// ended reports whether a read error means the stream is over.
func (e *Endpoint) ended(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) || e.closed.Load()
}

// readRTCP drains an RTCP reader so the interceptors never stall; the
// browser's reports tune our Opus FEC.
func (e *Endpoint) readRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	var buf [maxPacket]byte
	for {
		n, _, err := read(buf[:])
		if err != nil {
			if e.ended(err) {
				return
			}
			continue
		}
		e.rtcpIn.Add(1)
		e.s.ReceiveRTCP(buf[:n])
	}
}

// readSenderRTCP drains the RTCP for our sender (receiver reports).
func (e *Endpoint) readSenderRTCP() {
	defer e.wg.Done()
	e.readRTCP(e.sender.Read)
}

// transport is the Endpoint as the stream's Transport: pion's write
// stream for our track, and the remote track's read deadline.
type transport struct {
	e     *Endpoint
	w     atomic.Pointer[writer]
	track atomic.Pointer[webrtc.TrackRemote]
}

// writer boxes pion's write stream for atomic swaps.
type writer struct{ w webrtc.TrackLocalWriter }

// SendRTP hands one packet to pion, which protects and sends it.
func (t *transport) SendRTP(h *rtp.Header, _, payload []byte) error {
	w := t.w.Load()
	if w == nil {
		return errNotBound
	}
	_, err := w.w.WriteRTP(h, payload)
	return err
}

// SetReadDeadline wakes the reader of the remote track at d.
func (t *transport) SetReadDeadline(d time.Time) error {
	if tr := t.track.Load(); tr != nil {
		return tr.SetReadDeadline(d)
	}
	return nil
}

var errNotBound = errors.New("webrtcep: track not bound")
