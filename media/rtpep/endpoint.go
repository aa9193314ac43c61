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
)

const (
	eventQueue = 16
	dtmfQueue  = 32
	srInterval = 5 * time.Second
)

// Endpoint is a plain RTP media endpoint; it implements media.Endpoint.
// Its methods are safe for concurrent use.
type Endpoint struct {
	set      settings
	log      *slog.Logger
	rtpConn  *net.UDPConn
	rtcpConn *net.UDPConn
	local    netip.AddrPort
	epoch    time.Time // monotonic base for time.Duration stamps

	srInterval time.Duration // tests shorten it before start

	events    chan media.Event
	done      chan struct{}
	dtmf      *media.DTMFSender
	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool

	mu      sync.Mutex // negotiation: the fields below
	sessID  uint64
	sessVer uint64
	lastSDP []byte
	offered bool // an Offer awaits its answer (Accept)

	tx sender   // send path, own lock
	rx receiver // jitter buffer and receive tables, own lock
	rl recvLoop // owned by the RTP receive goroutine
	pl player   // owned by the playout goroutine

	output   atomic.Pointer[output]
	relaying atomic.Bool  // the last frame was passed through undecoded
	recvOn   atomic.Bool  // the negotiated direction expects media from the peer
	lastRTP  atomic.Int64 // since epoch, of the last accepted RTP packet; 0: none
	timedOut atomic.Bool
	stats    counters
}

type output struct {
	sink media.Sink
	ps   media.PayloadSink // sink as a PayloadSink, or nil
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
		events:     make(chan media.Event, eventQueue),
		done:       make(chan struct{}),
		sessID:     rand.Uint64() >> 2,
		sessVer:    1,
	}
	e.log = log.With("rtp", e.local.String())
	e.tx.init()
	e.dtmf = media.NewDTMFSender(dtmfTrack{e}, dtmfMax, dtmfQueue, func() { e.stats.dtmfSent.Add(1) })
	e.rx.init(set.depth)
	return e, nil
}

func (e *Endpoint) start() {
	e.wg.Add(4)
	go e.receiveRTP()
	go e.receiveRTCP()
	go e.playoutLoop()
	go func() {
		defer e.wg.Done()
		e.dtmf.Run(e.done)
	}()
}

// since returns the monotonic time since the endpoint was created.
func (e *Endpoint) since() time.Duration { return time.Since(e.epoch) }

// LocalAddr returns the bound RTP address (RTCP is on the next port).
func (e *Endpoint) LocalAddr() *net.UDPAddr { return net.UDPAddrFromAddrPort(e.local) }

// Events reports DTMF digits and RTP timeouts. It is closed by Close.
func (e *Endpoint) Events() <-chan media.Event { return e.events }

// Codec returns the negotiated codec name, "" before negotiation.
func (e *Endpoint) Codec() string {
	e.tx.mu.Lock()
	defer e.tx.mu.Unlock()
	if e.tx.codec < 0 {
		return ""
	}
	return e.set.codecs.desc[e.tx.codec].name
}

// String describes the receive pipeline, e.g. "RTP(pt=0) -> PCMU(decode)",
// or "RTP(pt=0) -> PCMU(passthrough)" while payloads are relayed undecoded.
func (e *Endpoint) String() string {
	e.rx.mu.Lock()
	codec, pt := e.rx.cur, e.rx.curPT
	if codec < 0 {
		codec, pt = e.rx.primary, e.rx.primaryPT
	}
	e.rx.mu.Unlock()
	if codec < 0 {
		return "RTP(unnegotiated)"
	}
	mode := "decode"
	if e.relaying.Load() {
		mode = "passthrough"
	}
	return fmt.Sprintf("RTP(pt=%d) -> %s(%s)", pt, e.set.codecs.desc[codec].name, mode)
}

// AudioSink returns the sink whose 8000 Hz frames are encoded with the
// negotiated codec (Opus too) and sent to the peer. It also implements
// media.PayloadSink for payloads already in that codec.
func (e *Endpoint) AudioSink() media.Sink { return (*audioSink)(e) }

// SetAudioOutput sets the sink receiving the peer's audio, decoded to
// 8000 Hz frames, or passed as payloads when s is a media.PayloadSink that
// takes the negotiated codec. Nil stops the output.
func (e *Endpoint) SetAudioOutput(s media.Sink) {
	if s == nil {
		e.output.Store(nil)
		return
	}
	if r := s.Rate(); r != pcmRate {
		e.log.Warn("audio output rate differs from 8000 Hz", "sink", s.String(), "rate", r)
	}
	ps, _ := s.(media.PayloadSink)
	e.output.Store(&output{sink: s, ps: ps})
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
	var recv []ptCodec
	for i, d := range e.set.codecs.desc {
		la.formats = append(la.formats, codecFormat(d, d.pt))
		recv = append(recv, ptCodec{pt: d.pt, codec: i})
	}
	tes := e.set.codecs.offeredTE()
	for _, te := range tes {
		la.formats = append(la.formats, teFormat(te.pt, te.clock))
	}
	body, err := e.localSDP([]*sdp.MediaDescription{la.description()})
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	e.rx.setTables(recv, tes)
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
	var tes []ptTE
	if n.te >= 0 {
		la.formats = append(la.formats, teFormat(uint8(n.te), d.clock))
		tes = []ptTE{{pt: uint8(n.te), clock: d.clock}}
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
	e.rx.setTables([]ptCodec{{pt: n.pt, codec: n.codec}}, tes)
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
	var recv []ptCodec
	for _, f := range m.formats {
		if i := e.set.codecs.index(f.name); i >= 0 && e.set.codecs.desc[i].matches(f) {
			recv = append(recv, ptCodec{pt: e.set.codecs.desc[i].pt, codec: i})
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed.Load():
		return fmt.Errorf("accept: %w", ErrClosed)
	case !e.offered:
		return fmt.Errorf("accept: %w", ErrNoOffer)
	}
	e.rx.setTables(recv, e.set.codecs.offeredTE())
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
	relatched := e.tx.apply(n, e.set.codecs.desc[n.codec])
	if relatched {
		e.log.Info("rtp peer address changed, latching again", "sdp", n.dest.String())
	}
	recv := n.receives()
	if was := e.recvOn.Swap(recv); recv && !was && e.lastRTP.Load() != 0 {
		// Back from hold: restart the timeout clock.
		e.lastRTP.Store(int64(e.since()))
	}
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
		e.tx.mu.Lock()
		e.tx.on = false
		e.tx.mu.Unlock()
		close(e.done)
		err = errors.Join(e.rtpConn.Close(), e.rtcpConn.Close())
		e.wg.Wait()
		if e.set.ports != nil {
			e.set.ports.release(int(e.local.Port()))
		}
		close(e.events)
	})
	if err != nil {
		return fmt.Errorf("close rtp endpoint: %w", err)
	}
	return nil
}

// emit reports an event without blocking the media goroutines.
func (e *Endpoint) emit(ev media.Event) {
	select {
	case e.events <- ev:
	default:
		e.stats.eventsDropped.Add(1)
	}
}
