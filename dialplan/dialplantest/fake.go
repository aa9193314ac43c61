package dialplantest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/softswitch/softswitch/dialplan"
)

// Call is the identity of a fake call. FakeSession embeds it; its fields
// are read through FakeSession's Session methods (s.Caller() returns
// s.Call.Caller).
type Call struct {
	ID          string
	Caller      string
	CallerName  string
	Destination string
	Source      string
	Transport   string
	Trunk       string            // the carrier the call came from, or ""
	Referrer    string            // call.referred_by: who transferred the call here, or ""
	Headers     map[string]string // looked up case-insensitively
}

// BridgeResult is the scripted outcome of one Bridge.
type BridgeResult struct {
	OK     bool
	Reason string        // when !OK: "busy", "no-answer", "unavailable", "declined", "not-found"
	Err    error         // returned as Bridge's error
	Delay  time.Duration // how long Bridge blocks first (ends early with ctx)
}

// FakeSession is a dialplan.Session for tests. Set the exported fields
// before the run; read Calls and Vars after it. Its methods are safe for
// concurrent use.
type FakeSession struct {
	Call

	// Bridges are the outcomes of successive Bridge calls; once used up,
	// Bridge answers (OK).
	Bridges []BridgeResult
	// Digits are the results of successive Collect calls; once used up,
	// Collect returns "" (as on a timeout).
	Digits []string
	// PlayDelay is how long Play blocks (it ends early, with the context's
	// error, when ctx ends).
	PlayDelay time.Duration
	// Errors makes a method fail: keyed by "answer", "ring", "play",
	// "collect", "bridge", "hangup", "record", "record_call", "voicemail" or
	// "voicemail_messages".
	Errors map[string]error
	// Trunks is the state trunk.up(name) reports; a name not in it is
	// an unknown trunk (an error).
	Trunks map[string]bool
	// Recordings are the results of successive Record calls.
	Recordings []dialplan.RecordResult
	// VoicemailResults are the outcomes of successive Voicemail calls.
	VoicemailResults []VoicemailResult
	// Mailboxes are the messages VoicemailMessages lists, by extension;
	// VoicemailHeard and VoicemailDelete change them.
	Mailboxes map[string][]dialplan.VoicemailMessage
	// Conferences are the outcomes of successive Conference calls; once
	// used up, Conference returns true.
	Conferences []BridgeResult // Err and Delay are not used

	mu          sync.Mutex
	calls       []string
	vars        map[string]string
	bridges     int
	digits      int
	records     int
	voicemails  int
	conferences int
}

var _ dialplan.Session = (*FakeSession)(nil)

// NewFakeSession returns a session for a call from caller to destination
// over UDP.
func NewFakeSession(caller, destination string) *FakeSession {
	return &FakeSession{Call: Call{
		ID:          "test-call",
		Caller:      caller,
		Destination: destination,
		Source:      "192.0.2.10:5060",
		Transport:   "udp",
	}}
}

// Calls returns the recorded calls, e.g.
// []string{"answer", "play test-audio", "hangup normal"}.
func (s *FakeSession) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Vars returns the variables the script set with call:set.
func (s *FakeSession) Vars() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	vars := make(map[string]string, len(s.vars))
	for k, v := range s.vars {
		vars[k] = v
	}
	return vars
}

func (s *FakeSession) record(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, fmt.Sprintf(format, args...))
}

// fail returns the scripted error of method, if any.
func (s *FakeSession) fail(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Errors[method]
}

// wait blocks for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *FakeSession) ID() string          { return s.Call.ID }
func (s *FakeSession) Caller() string      { return s.Call.Caller }
func (s *FakeSession) CallerName() string  { return s.Call.CallerName }
func (s *FakeSession) Destination() string { return s.Call.Destination }
func (s *FakeSession) Source() string      { return s.Call.Source }
func (s *FakeSession) Transport() string   { return s.Call.Transport }
func (s *FakeSession) Trunk() string       { return s.Call.Trunk }

// SetCaller records "set_caller NUMBER NAME".
func (s *FakeSession) SetCaller(number, name string) {
	s.record("set_caller %s %s", number, name)
}

// TrunkUp reports Trunks[name].
func (s *FakeSession) TrunkUp(name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.Trunks[name]
	if !ok {
		return false, fmt.Errorf("no trunk %q", name)
	}
	return up, nil
}

// Header looks name up in Headers, ignoring case.
func (s *FakeSession) Header(name string) string {
	for k, v := range s.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (s *FakeSession) Answer(ctx context.Context) error {
	s.record("answer")
	return s.fail("answer")
}

func (s *FakeSession) Ring(ctx context.Context) error {
	s.record("ring")
	return s.fail("ring")
}

func (s *FakeSession) Play(ctx context.Context, prompt string) error {
	s.record("play %s", prompt)
	if err := wait(ctx, s.PlayDelay); err != nil {
		return err
	}
	return s.fail("play")
}

func (s *FakeSession) Collect(ctx context.Context, opts dialplan.CollectOptions) (string, error) {
	s.record("collect%s", collectString(opts))
	if err := s.fail("collect"); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.digits >= len(s.Digits) {
		return "", nil
	}
	s.digits++
	return s.Digits[s.digits-1], nil
}

func (s *FakeSession) Bridge(ctx context.Context, targets []string, opts dialplan.BridgeOptions) (bool, string, error) {
	call := "bridge " + strings.Join(targets, ",")
	if opts.Timeout > 0 {
		call += fmt.Sprintf(" timeout=%v", opts.Timeout)
	}
	if opts.Record {
		call += " record"
	}
	s.record("%s", call)
	if err := s.fail("bridge"); err != nil {
		return false, "", err
	}
	s.mu.Lock()
	res := BridgeResult{OK: true}
	if s.bridges < len(s.Bridges) {
		res = s.Bridges[s.bridges]
		s.bridges++
	}
	s.mu.Unlock()
	if err := wait(ctx, res.Delay); err != nil {
		return false, "", err
	}
	return res.OK, res.Reason, res.Err
}

func (s *FakeSession) Hangup(ctx context.Context, cause string) error {
	s.record("hangup %s", cause)
	return s.fail("hangup")
}

func (s *FakeSession) Set(name, value string) {
	s.record("set %s=%s", name, value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vars == nil {
		s.vars = make(map[string]string)
	}
	s.vars[name] = value
}

// collectString formats the options that are set, e.g.
// " max=4 timeout=5s prompt=enter-pin".
func collectString(o dialplan.CollectOptions) string {
	var b strings.Builder
	if o.Max > 0 {
		fmt.Fprintf(&b, " max=%d", o.Max)
	}
	if o.Timeout > 0 {
		fmt.Fprintf(&b, " timeout=%v", o.Timeout)
	}
	if o.Terminator != "" {
		fmt.Fprintf(&b, " terminator=%s", o.Terminator)
	}
	if o.Prompt != "" {
		fmt.Fprintf(&b, " prompt=%s", o.Prompt)
	}
	return b.String()
}

var _ dialplan.Recorder = (*FakeSession)(nil)

// Record records "record NAME max=... [silence=...] [terminator=...]" and
// returns the next of Recordings, or, once they are used up, a recording
// at NAME.wav stopped by the terminator. It blocks for PlayDelay like Play.
func (s *FakeSession) Record(ctx context.Context, name string, o dialplan.RecordOptions) (dialplan.RecordResult, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "record %s max=%v", name, o.Max)
	if o.Silence > 0 {
		fmt.Fprintf(&b, " silence=%v", o.Silence)
	}
	if o.Terminator != "" {
		fmt.Fprintf(&b, " terminator=%s", o.Terminator)
	}
	s.record("%s", b.String())
	if err := wait(ctx, s.PlayDelay); err != nil {
		return dialplan.RecordResult{}, err
	}
	if err := s.fail("record"); err != nil {
		return dialplan.RecordResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records < len(s.Recordings) {
		s.records++
		return s.Recordings[s.records-1], nil
	}
	return dialplan.RecordResult{Path: strings.TrimSuffix(name, ".wav") + ".wav", Reason: dialplan.StopTerminator}, nil
}

var _ dialplan.Voicemailer = (*FakeSession)(nil)

// VoicemailResult is the scripted outcome of one Voicemail.
type VoicemailResult struct {
	OK     bool
	Reason string // when !OK, e.g. "not-found"
	Err    error
}

// Voicemail records "voicemail EXT max=... silence=... [greeting=...]" and
// returns the next of VoicemailResults, or, once they are used up, a
// message taken (true).
func (s *FakeSession) Voicemail(ctx context.Context, ext string, o dialplan.VoicemailOptions) (bool, string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "voicemail %s max=%v silence=%v", ext, o.Max, o.Silence)
	if o.Greeting != "" {
		fmt.Fprintf(&b, " greeting=%s", o.Greeting)
	}
	s.record("%s", b.String())
	if err := s.fail("voicemail"); err != nil {
		return false, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.voicemails < len(s.VoicemailResults) {
		s.voicemails++
		r := s.VoicemailResults[s.voicemails-1]
		return r.OK, r.Reason, r.Err
	}
	return true, "", nil
}

// VoicemailMessages records "voicemail_messages EXT" and returns
// Mailboxes[ext].
func (s *FakeSession) VoicemailMessages(ctx context.Context, ext string) ([]dialplan.VoicemailMessage, error) {
	s.record("voicemail_messages %s", ext)
	if err := s.fail("voicemail_messages"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]dialplan.VoicemailMessage(nil), s.Mailboxes[ext]...), nil
}

// VoicemailHeard records "voicemail_heard EXT ID" and marks it in Mailboxes.
func (s *FakeSession) VoicemailHeard(ctx context.Context, ext string, id int64) error {
	s.record("voicemail_heard %s %d", ext, id)
	return s.mailboxChange(ext, id, func(box []dialplan.VoicemailMessage, i int) []dialplan.VoicemailMessage {
		box[i].Heard = true
		return box
	})
}

// VoicemailDelete records "voicemail_delete EXT ID" and removes it from
// Mailboxes.
func (s *FakeSession) VoicemailDelete(ctx context.Context, ext string, id int64) error {
	s.record("voicemail_delete %s %d", ext, id)
	return s.mailboxChange(ext, id, func(box []dialplan.VoicemailMessage, i int) []dialplan.VoicemailMessage {
		return append(box[:i:i], box[i+1:]...)
	})
}

func (s *FakeSession) mailboxChange(ext string, id int64, f func([]dialplan.VoicemailMessage, int) []dialplan.VoicemailMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	box := s.Mailboxes[ext]
	for i := range box {
		if box[i].ID == id {
			s.Mailboxes[ext] = f(box, i)
			return nil
		}
	}
	return fmt.Errorf("no message %d for %s", id, ext)
}

var (
	_ dialplan.Echoer       = (*FakeSession)(nil)
	_ dialplan.CallRecorder = (*FakeSession)(nil)
)

// RecordCall records "record_call NAME" and returns "recordings/NAME.wav"
// ("recordings/call.wav" for no name).
func (s *FakeSession) RecordCall(ctx context.Context, name string) (string, error) {
	s.record("record_call %s", name)
	if err := s.fail("record_call"); err != nil {
		return "", err
	}
	if name == "" {
		name = "call"
	}
	return "recordings/" + strings.TrimSuffix(name, ".wav") + ".wav", nil
}

// Echo records "echo DURATION" and blocks for PlayDelay like Play.
func (s *FakeSession) Echo(ctx context.Context, d time.Duration) error {
	s.record("echo %v", d)
	if err := wait(ctx, s.PlayDelay); err != nil {
		return err
	}
	return s.fail("echo")
}

var _ dialplan.Conferencer = (*FakeSession)(nil)

// Conference records "conference ROOM pin=P max=N moderator=B muted=B"
// (and " gain=G" when set),
// blocks for PlayDelay like Play and returns the next of Conferences
// (once used up: true).
func (s *FakeSession) Conference(ctx context.Context, room string, o dialplan.ConferenceOptions) (bool, string, error) {
	line := fmt.Sprintf("conference %s pin=%s max=%d moderator=%t muted=%t", room, o.PIN, o.Max, o.Moderator, o.Muted)
	if o.Gain != 0 {
		line += fmt.Sprintf(" gain=%g", o.Gain)
	}
	if o.Record {
		line += " record=true"
	}
	s.record("%s", line)
	if err := wait(ctx, s.PlayDelay); err != nil {
		return false, "", err
	}
	if err := s.fail("conference"); err != nil {
		return false, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conferences >= len(s.Conferences) {
		return true, "", nil
	}
	s.conferences++
	res := s.Conferences[s.conferences-1]
	return res.OK, res.Reason, nil
}
