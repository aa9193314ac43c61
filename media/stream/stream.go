package stream

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/softswitch/softswitch/media"
)

// Defaults applied to zero Config fields.
const (
	DefaultDepth   = 3
	DefaultGapWait = 20 * time.Millisecond
	// MaxPacket is the largest RTP packet sent or received.
	MaxPacket = 1500

	eventQueue = 16
	dtmfQueue  = 32
)

// Errors of the stream; endpoints wrap them in their own.
var (
	ErrRate      = errors.New("stream: unsupported pcm rate")
	ErrFrameSize = errors.New("stream: frame is not 20 ms")
)

// Transport is what a stream sends through and wakes up with.
type Transport interface {
	// SendRTP sends one packet: h is its header, marshalled at the start
	// of pkt; payload is the rest of pkt. Neither is kept.
	SendRTP(h *rtp.Header, pkt, payload []byte) error
	// SetReadDeadline makes the reader's blocked read return a timeout
	// error at t (zero: never), so that it calls Wake.
	SetReadDeadline(t time.Time) error
}

// Config configures a Stream; the zero value of each field means its default.
type Config struct {
	// Name is the transport in String(): "RTP" or "SRTP".
	Name string
	// Rate is the PCM rate of Opus frames (default 8000); SetRate changes it.
	Rate int
	// Timeout reports media.EventTimeout once when no RTP arrived for
	// this long after the first packet while receiving is expected; zero
	// or negative: never.
	Timeout time.Duration
	// Depth is the reorder window in 20 ms frames (default 3).
	Depth int
	// GapWait is how long a gap waits for a late packet before it is
	// concealed (default 20 ms).
	GapWait time.Duration
	// ErrClosed is what writes after Close wrap: the endpoint's own
	// sentinel, which wraps media.ErrClosed (default media.ErrClosed).
	ErrClosed error
}

// Stream is one leg's RTP stream: see the package documentation.
type Stream struct {
	name      string
	tr        Transport
	log       *slog.Logger
	epoch     time.Time
	timeout   time.Duration
	gapWait   time.Duration
	errClosed error

	rate     atomic.Int32            // PCM rate of Opus frames
	table    atomic.Pointer[PTTable] // nil until SetReceive (issue 20: an empty table was 2 KB per endpoint)
	output   atomic.Pointer[output]
	recvOn   atomic.Bool  // the negotiated direction expects media from the peer
	lastRTP  atomic.Int64 // since epoch, of the last accepted RTP packet; 0: none
	timedOut atomic.Bool
	relaying atomic.Bool   // the last audio packet was relayed undecoded
	recvInfo atomic.Uint32 // codec<<8 | payload type of the audio received last
	rtt      atomic.Int64  // nanoseconds, from the peer's last report with an LSR; 0: none

	firstIn, firstOut Instant                // the first RTP packet accepted from the peer, sent to it
	failedAt          Instant                // the first RTP timeout or media failure
	failure           atomic.Pointer[string] // why, for failedAt

	rx receiver // owned by the reader goroutine
	tx sender   // the send path, own lock

	events    chan media.Event  // made on first use (a stream with a handler has none); guarded by evMu
	evMu      sync.Mutex        // orders emit and SetEventHandler
	onEvent   func(media.Event) // replaces events once set; guarded by evMu
	dtmf      *media.DTMFSender
	closeOnce sync.Once
	closed    atomic.Bool
	stats     counters
}

type output struct {
	sink media.Sink
	ps   media.PayloadSink // sink as a PayloadSink, or nil
}

// New returns a stream sending through tr and starts its digit sender. A
// nil log discards.
func New(cfg Config, tr Transport, log *slog.Logger) (*Stream, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rate := cfg.Rate
	if rate == 0 {
		rate = 8000
	}
	if !ValidRate(rate) {
		return nil, fmt.Errorf("new stream: rate %d: %w", rate, ErrRate)
	}
	s := &Stream{
		name: cfg.Name, tr: tr, log: log, epoch: time.Now(),
		timeout: cfg.Timeout, gapWait: cfg.GapWait, errClosed: cfg.ErrClosed,
	}
	if s.errClosed == nil {
		s.errClosed = media.ErrClosed
	}
	if s.gapWait <= 0 {
		s.gapWait = DefaultGapWait
	}
	depth := cfg.Depth
	if depth <= 0 {
		depth = DefaultDepth
	}
	s.rate.Store(int32(rate))
	s.recvOn.Store(true)
	s.rx.init(depth)
	s.tx.init()
	s.dtmf = media.NewDTMFSender(dtmfTrack{s}, dtmfMax, dtmfQueue, func() { s.stats.dtmfSent.Add(1) })
	return s, nil
}

// ValidRate reports whether rate is a PCM rate libopus takes and gives.
func ValidRate(rate int) bool {
	switch rate {
	case 8000, 12000, 16000, 24000, 48000:
		return true
	}
	return false
}

// since returns the monotonic time since the stream was created.
func (s *Stream) since() time.Duration { return time.Since(s.epoch) }

// Events reports DTMF digits and RTP timeouts; Close closes it.
func (s *Stream) Events() <-chan media.Event {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	return s.queue()
}

// queue returns the event queue, made on first use (under evMu); after
// Close it is closed.
func (s *Stream) queue() chan media.Event {
	if s.events == nil {
		s.events = make(chan media.Event, eventQueue)
		if s.closed.Load() {
			close(s.events)
		}
	}
	return s.events
}

// emit reports an event without blocking the media path: to the handler
// if one is set, else on Events.
func (s *Stream) emit(ev media.Event) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if s.onEvent != nil {
		s.onEvent(ev)
		return
	}
	if s.closed.Load() {
		return
	}
	select {
	case s.queue() <- ev:
	default:
		s.stats.eventsDropped.Add(1)
	}
}

// SetEventHandler makes the stream report its events by calling h on the
// goroutine that saw them (the transport's reader) instead of queueing
// them on Events; events already queued are handed to h first, in order.
// h must not block or call back into the stream. It saves its consumer a
// goroutine per stream.
func (s *Stream) SetEventHandler(h func(media.Event)) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
drain:
	for range cap(s.events) {
		select {
		case ev, ok := <-s.events:
			if !ok {
				break drain
			}
			if h != nil {
				h(ev)
			}
		default:
			break drain
		}
	}
	s.onEvent = h
}

// SetRate sets the PCM rate of Opus frames, both ways. The decoder
// follows on the next packet, the encoder on the next frame.
func (s *Stream) SetRate(rate int) error {
	if !ValidRate(rate) {
		return fmt.Errorf("set rate %d: %w", rate, ErrRate)
	}
	s.rate.Store(int32(rate))
	return nil
}

// SetAudioOutput sets the sink receiving the peer's audio: payloads it
// takes as they are, else decoded 20 ms frames (8000 Hz for G.711, the
// stream's rate for Opus). Nil stops the output.
func (s *Stream) SetAudioOutput(sink media.Sink) {
	if sink == nil {
		s.output.Store(nil)
		return
	}
	ps, _ := sink.(media.PayloadSink)
	s.output.Store(&output{sink: sink, ps: ps})
}

// SetReceiving tells whether the negotiated direction expects media from
// the peer; the RTP timeout only runs while it does. Back from hold, the
// timeout starts afresh.
func (s *Stream) SetReceiving(on bool) {
	if was := s.recvOn.Swap(on); on && !was && s.lastRTP.Load() != 0 {
		s.lastRTP.Store(int64(s.since()))
		_ = s.tr.SetReadDeadline(time.Now()) // the reader re-arms the timeout
	}
}

// String describes the receive pipeline, e.g. "RTP(pt=0) -> PCMU(decode)",
// "SRTP(pt=111) -> Opus(decode,8k)" or "... -> PCMU(passthrough)".
func (s *Stream) String() string {
	info := s.recvInfo.Load()
	c, pt := media.Codec(info>>8), uint8(info)
	if c == media.CodecNone {
		c, pt = s.table.Load().primary()
	}
	if c == media.CodecNone {
		return s.name + "(unnegotiated)"
	}
	mode := "decode"
	switch {
	case s.relaying.Load():
		mode = "passthrough"
	case c == media.CodecOpus:
		mode = fmt.Sprintf("decode,%dk", s.rate.Load()/1000)
	}
	return fmt.Sprintf("%s(pt=%d) -> %s(%s)", s.name, pt, stageName(c), mode)
}

// stageName is a codec's name in pipeline strings.
func stageName(c media.Codec) string {
	if c == media.CodecOpus {
		return "Opus"
	}
	return c.String()
}

// Close stops the digit sender and closes Events. The transport calls it
// once its reader has returned: nothing may call Receive or Wake after.
func (s *Stream) Close() {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.tx.mu.Lock()
		s.tx.on = false
		s.tx.mu.Unlock()
		s.dtmf.Close()
		s.evMu.Lock()
		if s.events != nil {
			close(s.events)
		}
		s.evMu.Unlock()
	})
}
