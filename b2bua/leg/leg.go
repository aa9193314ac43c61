package leg

import (
	"context"
	"errors"
	"time"

	"github.com/softswitch/softswitch/media"
)

// Leg is one side of a call. Methods may be called from the call's owner
// goroutine only; Events is read by it too.
type Leg interface {
	ID() string
	// Events reports what the peer did: hangup, DTMF. It is closed when the
	// leg has ended and will report nothing more.
	Events() <-chan Event
	// Ring tells an inbound caller the call progresses: 180, or 183 with
	// our SDP when early is set (early media flows from then on).
	Ring(ctx context.Context, early bool) error
	// Answer accepts an inbound call (200 with SDP) and returns once the
	// peer confirmed it (ACK) or gave up.
	Answer(ctx context.Context) error
	// Hangup ends the leg: a final error response before the answer, BYE
	// after it. Calling it twice is harmless.
	Hangup(ctx context.Context, c Cause) error
	// SendDTMF sends a digit in the form this leg negotiated.
	SendDTMF(digit rune, d time.Duration) error
	AudioSink() media.Sink
	SetAudioOutput(s media.Sink)
	// Codec is the audio codec negotiated on this leg.
	Codec() string
	// SetRate sets the PCM rate of the leg's Opus frames (media.Endpoint).
	SetRate(rate int) error
}

// Video is a leg that can carry video (a browser leg): video is relayed
// packets between two such legs, never decoded, each leg negotiated on
// its own. Legs that cannot carry video report no codecs.
type Video interface {
	// VideoCodecs lists the video codecs ("VP8", "H264") the peer offered
	// (an inbound leg) or accepted (an outbound leg); nil for none.
	VideoCodecs() []string
	// AcceptVideo makes an inbound leg's answer, not yet sent, accept the
	// peer's video with these codecs (nil declines it). It fails once the
	// answer is out (183 with SDP, 200).
	AcceptVideo(ctx context.Context, codecs []string) error
	// RelayVideo forwards the video this leg receives to to's peer, and
	// this peer's feedback about the video it receives back to to's
	// (call it on both legs); nil stops.
	RelayVideo(to Video)
}

// EventKind tells what an Event reports.
type EventKind int

const (
	EventHangup       EventKind = iota + 1 // the peer hung up (BYE, CANCEL, transport gone); Cause says why
	EventDTMF                              // a digit from the peer; Digit and Duration
	EventMediaTimeout                      // no RTP for the endpoint's timeout
	EventHold                              // the peer put the call on hold (a=sendonly/inactive, c=0.0.0.0)
	EventResume                            // the peer took the call off hold
	EventRefer                             // the peer asks for a transfer (REFER, answered 202); Refer says where
)

// Event is something the peer of a leg did.
type Event struct {
	Kind     EventKind
	Cause    Cause
	Digit    rune
	Duration time.Duration
	Refer    *Refer
}

// Progress is a provisional answer to an outbound leg.
type Progress struct {
	Code int // 180, 183, ...
	// Early is the media of the answering branch when the response carried
	// SDP (early media: ringback or announcements), else nil.
	Early media.Endpoint
}

// DialOptions configures an outbound leg.
type DialOptions struct {
	CallID     string // the call's id, for logs
	Caller     string // user part presented in From
	CallerName string // display name presented in From (and P-Asserted-Identity to trunks)
	// Trusted is set when the caller is an authenticated extension or a
	// trunk: only then may the call leave the switch (trunk/..., sip:...).
	Trusted bool
	Source  string // the caller's address, for logs
	// Video lists the video codecs the caller offered: a browser branch
	// offers them too, others offer audio only.
	Video []string
	// OnProgress is called for each provisional response, from the
	// dialing goroutine; it must not block.
	OnProgress func(Progress)
}

// Dialer turns a dialplan target ("user/1002", "trunk/NAME/NUMBER",
// "sip:...") into the branches it rings: every registered device of an
// extension, or the one address of a URI or trunk. The call forks over the
// branches of all its targets, cancels the losers and ranks the causes
// when every branch fails; a Dialer never forks by itself.
//
// Resolve refuses a target the caller may not reach (an external target
// without DialOptions.Trusted: Forbidden) and a target with nothing to
// ring (NotFound, Unavailable), with an error carrying the Cause.
type Dialer interface {
	Resolve(ctx context.Context, target string, opts DialOptions) ([]Branch, error)
}

// Branch is one place a target rings: one INVITE.
type Branch interface {
	// Dial rings this branch alone. It returns when the branch answered
	// (an answered, confirmed leg) or failed (an error carrying a Cause).
	// Cancel ctx or let its deadline pass to give up: the branch is
	// CANCELed and the error's cause is Cancelled or NoAnswer. Dial may
	// still return an answered leg after ctx ended (the callee answered
	// as the CANCEL crossed it); the caller hangs it up.
	Dial(ctx context.Context, opts DialOptions) (Leg, error)
	// String names the branch in logs (its contact or address).
	String() string
}

// Error is a failed dial: why, as a Cause.
type Error struct {
	Cause  Cause
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "leg: " + e.Cause.Name
	}
	return "leg: " + e.Cause.Name + ": " + e.Detail
}

// CauseOf returns the Cause carried by err, or Failure.
func CauseOf(err error) Cause {
	var le *Error
	if errors.As(err, &le) {
		return le.Cause
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return NoAnswer
	}
	if errors.Is(err, context.Canceled) {
		return Cancelled
	}
	return Failure
}

// CallInfo describes an inbound call as its leg received it.
type CallInfo struct {
	ID          string
	Caller      string // authenticated extension, or the From user of an allowed anonymous call or a trunk's call
	CallerName  string
	Destination string
	Source      string
	Transport   string
	Header      func(name string) string // request headers of the INVITE
	// Authenticated is set when the caller proved to be an extension.
	Authenticated bool
	// Trunk names the carrier the call came from (by its address), or "".
	Trunk string
	// Pickup is set for an INVITE with Replaces (RFC 3891) naming a
	// branch that rings: the ID of the call it picks up.
	Pickup string
}
