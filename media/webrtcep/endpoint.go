package webrtcep

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/softswitch/softswitch/media"
)

const (
	eventQueue = 16
	dtmfQueue  = 32
)

// Endpoint is one browser leg's media: one PeerConnection with one audio
// transceiver. It implements media.Endpoint; its methods are safe for
// concurrent use.
type Endpoint struct {
	set    settings
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	sender *webrtc.RTPSender
	track  *audioTrack
	epoch  time.Time // monotonic base for time.Duration stamps

	events    chan media.Event
	done      chan struct{}
	dtmf      *media.DTMFSender
	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool

	mu      sync.Mutex // negotiation
	offered bool       // an Offer awaits its answer (Accept)

	life        sync.Mutex // orders wg.Add against Close
	rtcpReading bool       // the receiver's RTCP loop runs (life held)

	rate atomic.Int64 // PCM rate for Opus (SetRate)

	tx sender   // send path, own lock
	rx receiver // jitter buffer and receive tables, own lock
	pl player   // playout state and decoders, own lock

	output   atomic.Pointer[output]
	relaying atomic.Bool  // the last frame was passed through undecoded
	lastRTP  atomic.Int64 // since epoch, of the last RTP packet; 0: none
	timedOut atomic.Bool
	recvOn   atomic.Bool // the negotiated direction expects media from the peer
	stats    counters
}

type output struct {
	sink media.Sink
	ps   media.PayloadSink // sink as a PayloadSink, or nil
}

var _ media.Endpoint = (*Endpoint)(nil)

// New creates an Endpoint: one PeerConnection with a sendrecv audio
// transceiver, ready to Offer or Answer.
func (f *Factory) New(ctx context.Context) (*Endpoint, error) {
	e, err := f.newEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	e.start()
	return e, nil
}

// newEndpoint creates the endpoint without starting its goroutines.
func (f *Factory) newEndpoint(ctx context.Context) (*Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	if f.isClosed() {
		return nil, fmt.Errorf("new webrtc endpoint: %w", ErrClosed)
	}
	pc, err := f.api.NewPeerConnection(webrtc.Configuration{
		Certificates:  []webrtc.Certificate{f.cert},
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	e := &Endpoint{
		set:    f.set,
		log:    f.log,
		pc:     pc,
		epoch:  time.Now(),
		events: make(chan media.Event, eventQueue),
		done:   make(chan struct{}),
	}
	e.rate.Store(DefaultRate)
	e.recvOn.Store(true)
	e.tx.init()
	e.dtmf = media.NewDTMFSender(dtmfTrack{e}, dtmfMax, dtmfQueue, func() { e.stats.dtmfSent.Add(1) })
	e.rx.init(f.set.depth)
	e.pl.init()
	if err := e.setup(); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	return e, nil
}

// setup adds the transceiver with our track and installs the callbacks.
func (e *Endpoint) setup() error {
	e.track = &audioTrack{e: e}
	tr, err := e.pc.AddTransceiverFromTrack(e.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		return fmt.Errorf("add transceiver: %w", err)
	}
	if err := tr.SetCodecPreferences(registeredCodecs()); err != nil {
		return fmt.Errorf("codec preferences: %w", err)
	}
	e.sender = tr.Sender()
	e.pc.OnTrack(e.onTrack)
	e.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		e.log.Debug("webrtc connection state", "state", s.String())
	})
	e.sender.Transport().OnStateChange(func(s webrtc.DTLSTransportState) {
		if s == webrtc.DTLSTransportStateFailed {
			e.log.Warn("dtls failed: peer certificate does not match the sdp fingerprint or the handshake failed; no media")
		}
	})
	return nil
}

func (e *Endpoint) start() {
	e.wg.Add(3)
	go e.readSenderRTCP()
	go e.playoutLoop()
	go func() {
		defer e.wg.Done()
		e.dtmf.Run(e.done)
	}()
}

// since returns the monotonic time since the endpoint was created.
func (e *Endpoint) since() time.Duration { return time.Since(e.epoch) }

// Events reports DTMF digits and RTP timeouts. It is closed by Close.
func (e *Endpoint) Events() <-chan media.Event { return e.events }

// Codec returns the negotiated send codec: "opus", "PCMU", "PCMA", or ""
// before negotiation.
func (e *Endpoint) Codec() string {
	e.tx.mu.Lock()
	defer e.tx.mu.Unlock()
	return e.tx.ch.kind.String()
}

// SetRate sets the PCM rate of AudioSink and of the output frames when
// the codec is Opus: 48000 by default, 8000 when bridged to a G.711 leg
// (libopus encodes and decodes 8 kHz directly), or 12000, 16000, 24000.
// PCMU and PCMA always run at 8000 whatever the rate set.
func (e *Endpoint) SetRate(rate int) error {
	if !validRate(rate) {
		return fmt.Errorf("set rate %d: %w", rate, ErrConfig)
	}
	if e.closed.Load() {
		return fmt.Errorf("set rate: %w", ErrClosed)
	}
	if e.rate.Swap(int64(rate)) == int64(rate) {
		return nil
	}
	if err := e.pl.setRate(rate); err != nil {
		return fmt.Errorf("set rate: %w", err)
	}
	if err := e.tx.setRate(rate); err != nil {
		return fmt.Errorf("set rate: %w", err)
	}
	return nil
}

// pcmRate is the PCM rate of frames in codec k.
func (e *Endpoint) pcmRate(k kind) int {
	if k == kindOpus {
		return int(e.rate.Load())
	}
	return g711Rate
}

// String describes the receive pipeline, e.g. "SRTP -> Opus(decode,8k)",
// or "SRTP -> Opus(passthrough)" while payloads are relayed undecoded.
func (e *Endpoint) String() string {
	e.rx.mu.Lock()
	k := e.rx.cur
	if k == kindNone {
		k = e.rx.primary
	}
	e.rx.mu.Unlock()
	switch {
	case k == kindNone:
		return "SRTP(unnegotiated)"
	case e.relaying.Load():
		return fmt.Sprintf("SRTP -> %s(passthrough)", stageName(k))
	case k == kindOpus:
		return fmt.Sprintf("SRTP -> Opus(decode,%dk)", e.rate.Load()/1000)
	}
	return fmt.Sprintf("SRTP -> %s(decode)", stageName(k))
}

func stageName(k kind) string {
	if k == kindOpus {
		return "Opus"
	}
	return k.String()
}

// AudioSink returns the sink whose frames are encoded with the negotiated
// codec and sent to the browser. Its rate is the endpoint's rate for Opus
// and 8000 for G.711. It also implements media.PayloadSink for payloads
// already in the negotiated codec.
func (e *Endpoint) AudioSink() media.Sink { return (*audioSink)(e) }

// SetAudioOutput sets the sink receiving the browser's audio, decoded to
// frames at the endpoint's rate (8000 for G.711), or passed as payloads
// when s is a media.PayloadSink that takes the codec. Nil stops the output.
func (e *Endpoint) SetAudioOutput(s media.Sink) {
	if s == nil {
		e.output.Store(nil)
		return
	}
	ps, _ := s.(media.PayloadSink)
	e.output.Store(&output{sink: s, ps: ps})
}

// Close closes the PeerConnection, stops the goroutines, waits for them
// and closes Events. It is safe to call more than once.
func (e *Endpoint) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.life.Lock()
		e.closed.Store(true)
		e.life.Unlock()
		close(e.done)
		err = e.pc.Close()
		e.wg.Wait()
		close(e.events)
	})
	if err != nil {
		return fmt.Errorf("close webrtc endpoint: %w", err)
	}
	return nil
}

// goTracked runs fn on a goroutine Close waits for, unless closed.
func (e *Endpoint) goTracked(fn func()) bool {
	e.life.Lock()
	defer e.life.Unlock()
	if e.closed.Load() {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		fn()
	}()
	return true
}

// emit reports an event without blocking the media goroutines.
func (e *Endpoint) emit(ev media.Event) {
	select {
	case e.events <- ev:
	default:
		e.stats.eventsDropped.Add(1)
	}
}
