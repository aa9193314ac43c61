package rtpep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/softswitch/softswitch/media"
	"github.com/softswitch/softswitch/media/stream"
	"github.com/softswitch/softswitch/media/udpread"
)

const srInterval = 5 * time.Second

// Endpoint is a plain RTP media endpoint; it implements media.Endpoint.
// Its methods are safe for concurrent use. The RTP stream itself (codecs,
// reordering, concealment, DTMF, the send clock) is media/stream's; this
// package keeps the UDP sockets, the port pool, latching, RTP/AVP SDP
// and RTCP.
type Endpoint struct {
	set      settings
	log      *slog.Logger
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	local    netip.AddrPort
	epoch    time.Time // monotonic base for time.Duration stamps
	s        *stream.Stream

	srInterval time.Duration // tests shorten it before start

	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool

	mu      sync.Mutex // negotiation: the fields below
	sessID  uint64
	sessVer uint64
	lastSDP []byte
	offered bool // an Offer awaits its answer (Accept)

	peer       peer            // where packets go, latching
	rtcp       rtcpSend        // sender reports, under the stream's send lock
	pkt        stream.Packet   // owned by the RTP reader
	rtpReader  *udpread.Reader // its reads: buffers from the port pool's
	rtcpReader *udpread.Reader // RTCP's (the pool's poller or receiveRTCP)
	rtcpIn     atomic.Uint64
	// rtcpStop deregisters the RTCP socket from the port pool's poller;
	// nil when the endpoint reads RTCP on a goroutine of its own.
	rtcpStop func()
}

var _ media.Endpoint = (*Endpoint)(nil)

// New binds an RTP/RTCP port pair on cfg.IP (from cfg.Ports, or chosen by
// the OS when Ports is nil) and starts the endpoint's goroutines. A nil
// log discards.
func New(cfg Config, log *slog.Logger) (*Endpoint, error) {
	e, err := newEndpoint(cfg, log)
	if err != nil {
		return nil, err
	}
	e.start()
	return e, nil
}

func newEndpoint(cfg Config, log *slog.Logger) (*Endpoint, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, fmt.Errorf("new rtp endpoint: %w", err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var rtpConn, rtcpConn *net.UDPConn
	var port int
	if set.ports != nil {
		rtpConn, rtcpConn, port, err = set.ports.bind(set.ip)
	} else {
		rtpConn, rtcpConn, port, err = bindEphemeral(set.ip)
	}
	if err != nil {
		return nil, fmt.Errorf("new rtp endpoint: %w", err)
	}
	e := &Endpoint{
		set:        set,
		rtpConn:    rtpConn,
		rtcpConn:   rtcpConn,
		local:      netip.AddrPortFrom(set.ip, uint16(port)),
		epoch:      time.Now(),
		srInterval: srInterval,
		sessID:     rand.Uint64() >> 2,
		sessVer:    1,
	}
	e.log = log.With("rtp", e.local.String())
	var bufs *udpread.Buffers
	if set.ports != nil {
		bufs = &set.ports.bufs
	}
	e.rtpReader = udpread.NewReader(rtpConn, bufs, e.handleRTP)
	e.rtcpReader = udpread.NewReader(rtcpConn, bufs, e.handleRTCP)
	e.peer.init(set.ip, set.signal)
	e.s, err = stream.New(stream.Config{Name: "RTP", Rate: pcmRate, Timeout: set.timeout, Depth: set.depth, ErrClosed: ErrClosed},
		transport{e}, e.log)
	if err != nil {
		_ = rtpConn.Close()
		_ = rtcpConn.Close()
		if set.ports != nil {
			set.ports.release(port)
		}
		return nil, fmt.Errorf("new rtp endpoint: %w", err)
	}
	return e, nil
}

func (e *Endpoint) start() {
	if p := e.set.ports; p != nil {
		e.rtcpStop, _ = p.rtcp.add(e)
	}
	e.wg.Add(1)
	go e.receiveRTP()
	if e.rtcpStop == nil {
		e.wg.Add(1)
		go e.receiveRTCP()
	}
}

// since returns the monotonic time since the endpoint was created.
func (e *Endpoint) since() time.Duration { return time.Since(e.epoch) }

// LocalAddr returns the bound RTP address (RTCP is on the next port).
func (e *Endpoint) LocalAddr() *net.UDPAddr { return net.UDPAddrFromAddrPort(e.local) }

// Events reports DTMF digits and RTP timeouts. It is closed by Close.
func (e *Endpoint) Events() <-chan media.Event { return e.s.Events() }

// SetEventHandler makes the endpoint report its events by calling h, on
// its reader goroutine, instead of on Events (see stream.SetEventHandler):
// h must not block.
func (e *Endpoint) SetEventHandler(h func(media.Event)) { e.s.SetEventHandler(h) }

// Codec returns the negotiated codec name, "" before negotiation.
func (e *Endpoint) Codec() string { return e.s.SendCodec().String() }

// String describes the receive pipeline, e.g. "RTP(pt=0) -> PCMU(decode)",
// or "RTP(pt=0) -> PCMU(passthrough)" while payloads are relayed undecoded.
func (e *Endpoint) String() string { return e.s.String() }

// AudioSink returns the sink whose frames (8000 Hz, or the rate set for
// Opus) are encoded with the negotiated codec and sent to the peer. It
// also implements media.PayloadSink for payloads already in that codec.
func (e *Endpoint) AudioSink() media.Sink { return e.s.AudioSink() }

// SetAudioOutput sets the sink receiving the peer's audio, decoded to
// 20 ms frames on arrival, or passed as payloads when s is a
// media.PayloadSink that takes the negotiated codec. Nil stops the output.
func (e *Endpoint) SetAudioOutput(s media.Sink) { e.s.SetAudioOutput(s) }

// SetRate sets the PCM rate of Opus frames (8000 by default); G.711
// frames are 8000 Hz whatever the rate.
func (e *Endpoint) SetRate(rate int) error {
	if e.closed.Load() {
		return fmt.Errorf("set rate: %w", ErrClosed)
	}
	if err := e.s.SetRate(rate); err != nil {
		return fmt.Errorf("set rate: %w: %w", ErrConfig, err)
	}
	return nil
}

// SendDTMF queues digit to be sent as an RFC 4733 event lasting d (0
// means 100 ms; clamped to 40 ms-5 s, 1.36 s with Opus, whose events use
// its 48 kHz clock) and returns at once. While an event plays, audio
// written to AudioSink is suppressed. It fails with ErrNoTelephoneEvent
// when the peer did not negotiate telephone-event.
func (e *Endpoint) SendDTMF(digit rune, d time.Duration) error {
	if e.closed.Load() {
		return fmt.Errorf("send dtmf: %w", ErrClosed)
	}
	return e.s.SendDTMF(digit, d)
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	return Stats{Stats: e.s.Stats(), RTCPSent: e.rtcp.sent.Load(), RTCPReceived: e.rtcpIn.Load()}
}

// Offer returns an SDP offer: our codecs in preference order with their
// payload types (static for G.711, 111 for Opus), telephone-event/8000 as
// PT 101 and, with Opus, telephone-event/48000 as PT 110, sendrecv.
func (e *Endpoint) Offer(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return nil, fmt.Errorf("offer: %w", ErrClosed)
	}
	la := localAudio{port: int(e.local.Port()), protos: []string{"RTP", "AVP"}, dir: sdp.DirectionSendRecv}
	var recv stream.PTTable
	for _, d := range e.set.codecs.desc {
		la.formats = append(la.formats, codecFormat(d, d.pt))
		recv.SetCodec(d.pt, d.codec)
	}
	for _, te := range e.set.codecs.offeredTE() {
		la.formats = append(la.formats, teFormat(te.pt, te.clock))
		recv.SetTE(te.pt, te.clock)
	}
	body, err := e.localSDP([]*sdp.MediaDescription{la.description()})
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	e.s.SetReceive(recv)
	e.offered = true
	return body, nil
}

// Answer answers a peer's offer (an initial INVITE or a re-INVITE): it
// picks the first of our codecs the offer has, keeps the offer's payload
// type numbers, mirrors the direction (hold) and points the send path at
// the offered address, without rebinding. An offer without a usable
// codec fails with an error wrapping ErrNoCommonCodec.
func (e *Endpoint) Answer(ctx context.Context, offer []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	sd, err := parseSDP(offer)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	m, err := audioStream(sd)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	n, err := negotiate(m, &e.set.codecs)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	d := e.set.codecs.desc[n.codec]
	la := localAudio{port: int(e.local.Port()), protos: m.protos, dir: n.dir,
		formats: []format{codecFormat(d, n.pt)}}
	var recv stream.PTTable
	recv.SetCodec(n.pt, d.codec)
	if n.te >= 0 {
		la.formats = append(la.formats, teFormat(uint8(n.te), d.clock))
		recv.SetTE(uint8(n.te), d.clock)
	}
	lines := make([]*sdp.MediaDescription, len(sd.MediaDescriptions))
	for i, md := range sd.MediaDescriptions {
		if i == m.index {
			lines[i] = la.description()
		} else {
			lines[i] = rejected(md)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed.Load() {
		return nil, fmt.Errorf("answer: %w", ErrClosed)
	}
	body, err := e.localSDP(lines)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	e.s.SetReceive(recv)
	e.apply(n)
	e.offered = false
	return body, nil
}

// Accept takes the peer's answer to our last Offer. It may be called
// again for the same offer (a 183 then a 200 with SDP).
func (e *Endpoint) Accept(ctx context.Context, answer []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	sd, err := parseSDP(answer)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	m, err := audioStream(sd)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	n, err := negotiate(m, &e.set.codecs)
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	// The peer sends with the numbers of our offer: receive the answered
	// codecs at our static payload types.
	var recv stream.PTTable
	for _, f := range m.formats {
		if i := e.set.codecs.index(f.name); i >= 0 && e.set.codecs.desc[i].matches(f) {
			recv.SetCodec(e.set.codecs.desc[i].pt, e.set.codecs.desc[i].codec)
		}
	}
	for _, te := range e.set.codecs.offeredTE() {
		recv.SetTE(te.pt, te.clock)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed.Load():
		return fmt.Errorf("accept: %w", ErrClosed)
	case !e.offered:
		return fmt.Errorf("accept: %w", ErrNoOffer)
	}
	e.s.SetReceive(recv)
	e.apply(n)
	return nil
}

// localSDP marshals our SDP, bumping the o= version when it changed
// (RFC 3264 §8). e.mu is held.
func (e *Endpoint) localSDP(media []*sdp.MediaDescription) ([]byte, error) {
	body, err := marshalSDP(e.set.ip, e.sessID, e.sessVer, media)
	if err == nil && e.lastSDP != nil && !bytes.Equal(body, e.lastSDP) {
		e.sessVer++
		body, err = marshalSDP(e.set.ip, e.sessID, e.sessVer, media)
	}
	if err != nil {
		return nil, err
	}
	e.lastSDP = body
	return body, nil
}

// apply installs a negotiation in the send path and the timeout logic.
// e.mu is held.
func (e *Endpoint) apply(n negotiation) {
	d := e.set.codecs.desc[n.codec]
	if e.peer.apply(n) {
		e.log.Info("rtp peer address changed, latching again", "sdp", n.dest.String())
	}
	e.s.SetSend(stream.Send{Codec: d.codec, PT: n.pt, TE: n.te, TEClock: d.clock})
	e.s.SetSending(n.sends())
	e.s.SetReceiving(n.receives())
	e.log.Debug("rtp negotiated", "codec", e.set.codecs.desc[n.codec].name, "pt", n.pt,
		"te", n.te, "dest", n.dest.String(), "direction", n.dir.String())
}

// Close stops the goroutines, waits for them, releases the ports and
// closes Events. It is safe to call more than once.
func (e *Endpoint) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed.Store(true)
		e.mu.Unlock()
		e.s.SetSending(false)
		if e.rtcpStop != nil {
			e.rtcpStop() // before the socket closes: its descriptor may be reused
		}
		err = errors.Join(e.rtpConn.Close(), e.rtcpConn.Close())
		e.wg.Wait()
		e.s.Close()
		if e.set.ports != nil {
			e.set.ports.release(int(e.local.Port()))
		}
	})
	if err != nil {
		return fmt.Errorf("close rtp endpoint: %w", err)
	}
	return nil
}
