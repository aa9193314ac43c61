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
	"github.com/softswitch/softswitch/media/stream"
)

// Endpoint is one browser leg's media: one PeerConnection with one audio
// transceiver. It implements media.Endpoint; its methods are safe for
// concurrent use. The RTP stream itself (codecs, reordering, concealment,
// DTMF, the send clock) is media/stream's; this package keeps pion: ICE,
// DTLS-SRTP and the SDP browsers want.
type Endpoint struct {
	set    settings
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	sender *webrtc.RTPSender
	track  *audioTrack
	s      *stream.Stream
	tr     transport
	lite   *liteConn // the lite engine's transport; pc, sender and track are nil then

	sdpSession, sdpVersion uint64 // o= of our SDP (lite), under mu

	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool

	mu      sync.Mutex // negotiation
	offered bool       // an Offer awaits its answer (Accept)
	// Video (lite engine), under mu: the codecs to offer (OfferVideo)
	// and accept (AcceptVideo), what our last offer carried, and what
	// the peer offered or accepted in the last exchange.
	vOffer, vAccept, vPeer []string
	vOffered               []videoCodec

	life        sync.Mutex // orders wg.Add against Close
	rtcpReading bool       // the receiver's RTCP loop runs (life held)
	reader      sync.Mutex // held by the goroutine reading RTP: one at a time

	sendMu  sync.Mutex // dirSend and bound, combined into the stream's sending
	dirSend bool
	bound   bool

	rtcpIn atomic.Uint64
}

var _ media.Endpoint = (*Endpoint)(nil)

// New creates an Endpoint: one PeerConnection with a sendrecv audio
// transceiver, ready to Offer or Answer.
func (f *Factory) New(ctx context.Context) (*Endpoint, error) {
	if f.lc != nil {
		e, err := f.createLite(ctx)
		if err != nil {
			return nil, err
		}
		e.goTracked(e.lite.read)
		return e, nil
	}
	e, err := f.create(ctx)
	if err != nil {
		return nil, err
	}
	e.startRTCP()
	return e, nil
}

// createLite creates a lite endpoint (its own UDP socket, no
// PeerConnection) without starting its reader.
func (f *Factory) createLite(ctx context.Context) (*Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	if f.isClosed() {
		return nil, fmt.Errorf("new webrtc endpoint: %w", ErrClosed)
	}
	ssrc, err := randUint32()
	if err != nil {
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	sess, err := randUint32()
	if err != nil {
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	e := &Endpoint{set: f.set, log: f.log, dirSend: true, sdpSession: uint64(sess)}
	if e.lite, err = newLiteConn(e, f.set.ip, f.lc, &f.bufs); err != nil {
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	e.s, err = stream.New(stream.Config{Name: "SRTP", Rate: DefaultRate, Timeout: f.set.timeout, Depth: f.set.depth,
		ErrClosed: ErrClosed}, e.lite, f.log)
	if err != nil {
		_ = e.lite.close()
		return nil, fmt.Errorf("new webrtc endpoint: %w", err)
	}
	e.s.SetSSRC(ssrc)
	e.s.SetSending(false) // until DTLS-SRTP is up
	return e, nil
}

// create creates the endpoint without starting its goroutines.
func (f *Factory) create(ctx context.Context) (*Endpoint, error) {
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
	e := &Endpoint{set: f.set, log: f.log, pc: pc, dirSend: true}
	e.tr.e = e
	e.s, err = stream.New(stream.Config{Name: "SRTP", Rate: DefaultRate, Timeout: f.set.timeout, Depth: f.set.depth,
		ErrClosed: ErrClosed},
		&e.tr, f.log)
	if err == nil {
		e.s.SetSending(false) // until pion binds our track
		err = e.setup()
	}
	if err != nil {
		if e.s != nil {
			e.s.Close()
		}
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

func (e *Endpoint) startRTCP() {
	e.wg.Add(1)
	go e.readSenderRTCP()
}

// Events reports DTMF digits and RTP timeouts. It is closed by Close.
func (e *Endpoint) Events() <-chan media.Event { return e.s.Events() }

// SetEventHandler makes the endpoint report its events by calling h, on
// its reader goroutine, instead of on Events (see stream.SetEventHandler):
// h must not block.
func (e *Endpoint) SetEventHandler(h func(media.Event)) { e.s.SetEventHandler(h) }

// Codec returns the negotiated send codec: "opus", "PCMU", "PCMA", or ""
// before negotiation.
func (e *Endpoint) Codec() string { return e.s.SendCodec().String() }

// SetRate sets the PCM rate of AudioSink and of the output frames when
// the codec is Opus: 48000 by default, 8000 when bridged to a G.711 leg
// (libopus encodes and decodes 8 kHz directly), or 12000, 16000, 24000.
// PCMU and PCMA always run at 8000 whatever the rate set.
func (e *Endpoint) SetRate(rate int) error {
	if e.closed.Load() {
		return fmt.Errorf("set rate: %w", ErrClosed)
	}
	if err := e.s.SetRate(rate); err != nil {
		return fmt.Errorf("set rate: %w: %w", ErrConfig, err)
	}
	return nil
}

// String describes the receive pipeline, e.g. "SRTP(pt=111) -> Opus(decode,8k)",
// or "SRTP(pt=111) -> Opus(passthrough)" while payloads are relayed undecoded.
func (e *Endpoint) String() string { return e.s.String() }

// AudioSink returns the sink whose frames are encoded with the negotiated
// codec and sent to the browser. Its rate is the endpoint's rate for Opus
// and 8000 for G.711. It also implements media.PayloadSink for payloads
// already in the negotiated codec.
func (e *Endpoint) AudioSink() media.Sink { return e.s.AudioSink() }

// SetAudioOutput sets the sink receiving the browser's audio, decoded on
// arrival to frames at the endpoint's rate (8000 for G.711), or passed as
// payloads when s is a media.PayloadSink that takes the codec. Nil stops
// the output.
func (e *Endpoint) SetAudioOutput(s media.Sink) { e.s.SetAudioOutput(s) }

// SendDTMF queues digit to be sent to the browser as an RFC 4733 event
// lasting d (0 means 100 ms; clamped to 40 ms and to what the event
// clock's 16-bit duration holds) and returns at once. (Browsers do not
// surface received RFC 4733 events to the page; this is for completeness
// and for non-browser WebRTC peers.) It fails with ErrNoTelephoneEvent
// when the peer did not negotiate telephone-event.
func (e *Endpoint) SendDTMF(digit rune, d time.Duration) error {
	if e.closed.Load() {
		return fmt.Errorf("send dtmf: %w", ErrClosed)
	}
	return e.s.SendDTMF(digit, d)
}

// Stats counts what an endpoint did since New: the stream's counters and
// the RTCP packets read.
type Stats struct {
	stream.Stats
	RTCPReceived uint64 // RTCP packets read
	RTCPSent     uint64 // RTCP sender reports sent (lite engine)
	// Dropped counts datagrams the lite engine dropped: malformed,
	// unauthenticated (STUN integrity, SRTP auth) or from an address
	// other than the selected pair's.
	Dropped uint64
	// How far the browser's transport got (lite engine; ICEKnown false
	// with the pion engine): connectivity checks (STUN binding requests)
	// answered, the selected pair's remote address, DTLS-SRTP up.
	ICEKnown      bool
	ICEChecks     uint64
	ICEPeer       string
	DTLSRole      string // "client" or "server" once the handshake started, else ""
	DTLSConnected bool
	// When (zero: never): the first connectivity check answered, and
	// DTLS-SRTP up.
	FirstCheck, DTLSConnectedAt time.Time
}

// Stats returns the endpoint's counters.
func (e *Endpoint) Stats() Stats {
	st := Stats{Stats: e.s.Stats(), RTCPReceived: e.rtcpIn.Load()}
	if e.lite != nil {
		st.Dropped, st.RTCPSent = e.lite.dropped.Load(), e.lite.srSent.Load()
		st.ICEKnown, st.ICEChecks, st.DTLSConnected = true, e.lite.checks.Load(), e.lite.connected()
		if p := e.lite.peer.Load(); p != nil {
			st.ICEPeer = p.String()
		}
		st.DTLSRole = e.lite.role()
		st.FirstCheck, st.DTLSConnectedAt = e.lite.firstCheck.Time(), e.lite.dtlsUp.Time()
	}
	return st
}

// connected reports whether DTLS-SRTP is up.
func (e *Endpoint) connected() bool {
	if e.lite != nil {
		return e.lite.connected()
	}
	return e.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

// setSending combines the direction and pion's binding of our track.
func (e *Endpoint) setSending(dir, bound *bool) {
	e.sendMu.Lock()
	defer e.sendMu.Unlock()
	if dir != nil {
		e.dirSend = *dir
	}
	if bound != nil {
		e.bound = *bound
	}
	e.s.SetSending(e.dirSend && e.bound)
}

// Close closes the PeerConnection, stops the goroutines, waits for them
// and closes Events. It is safe to call more than once.
func (e *Endpoint) Close() error {
	var err error
	e.closeOnce.Do(func() {
		e.life.Lock()
		e.closed.Store(true)
		e.life.Unlock()
		if e.lite != nil {
			err = e.lite.close()
		} else {
			err = e.pc.Close()
		}
		e.wg.Wait()
		e.s.Close()
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
