package b2bua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/dialplan"
)

// Mailboxes keep voicemail (package voicemail implements them).
type Mailboxes interface {
	Exists(ctx context.Context, ext string) (bool, error)
	// Deposit stores pcm (mono, 8 kHz) as a message, even when ctx has
	// ended (the caller hung up while speaking).
	Deposit(ctx context.Context, m store.Voicemail, pcm []int16) (store.Voicemail, error)
	Messages(ctx context.Context, ext string) ([]store.Voicemail, error)
	File(m store.Voicemail) string
	// Greeting is the prompt to play for ext: its own recorded greeting
	// (a file path) or the default's name.
	Greeting(ext string) string
	MarkHeard(ctx context.Context, ext string, id int64) error
	Delete(ctx context.Context, ext string, id int64) error
}

// SetVoicemail gives calls their mailboxes (call:voicemail in the
// dialplan). Call it before serving calls.
func (e *Engine) SetVoicemail(m Mailboxes) { e.boxes = m }

var errNoVoicemail = errors.New("voicemail is not configured")

var _ dialplan.Voicemailer = (*Call)(nil)

// Voicemail takes a message for ext (see dialplan.Voicemailer): the
// greeting, a beep, then the caller is recorded until #, silence or the
// maximum. A message is stored even when the caller hangs up while
// speaking; one shorter than half a second is not (nothing was said).
func (c *Call) Voicemail(ctx context.Context, ext string, o dialplan.VoicemailOptions) (bool, string, error) {
	if err := c.gone(ctx); err != nil {
		return false, "", err
	}
	if c.e.boxes == nil {
		return false, "", fmt.Errorf("voicemail: %w", errNoVoicemail)
	}
	ok, err := c.e.boxes.Exists(ctx, ext)
	if err != nil {
		return false, "", fmt.Errorf("voicemail: %w", err)
	}
	if !ok {
		c.log.Warn("voicemail: no mailbox: extension does not exist", "ext", ext)
		return false, "not-found", nil
	}
	if err := c.Answer(ctx); err != nil {
		return false, "", fmt.Errorf("voicemail: %w", err)
	}
	greeting := o.Greeting
	if greeting == "" {
		greeting = c.e.boxes.Greeting(ext)
	}
	if err := c.Play(ctx, greeting); err != nil {
		if ctx.Err() != nil {
			return false, "", err
		}
		c.log.Warn("voicemail: greeting not played", "ext", ext, "greeting", greeting, "error", err)
	}
	if err := c.Play(ctx, "beep"); err != nil {
		return false, "", fmt.Errorf("voicemail: %w", err)
	}
	pcm, reason := c.capture(ctx, dialplan.RecordOptions{Max: o.Max, Silence: o.Silence, Terminator: "#"})
	if len(pcm) < recordRate/2 {
		c.log.Info("voicemail: nothing said, no message", "ext", ext, "stop", reason)
		return false, "empty", c.gone(ctx)
	}
	m, err := c.e.boxes.Deposit(ctx, store.Voicemail{Ext: ext, Caller: c.info.Caller, CallerName: c.info.CallerName,
		CallID: c.info.ID, Created: time.Now()}, pcm)
	if err != nil {
		return false, "", fmt.Errorf("voicemail: %w", err)
	}
	c.log.Info("voicemail: message taken", "ext", ext, "id", m.ID, "duration", m.Duration.Round(time.Millisecond), "stop", reason)
	c.Set("voicemail", ext+"/"+strconv.FormatInt(m.ID, 10)) // the CDR tells where the call went
	return true, "", c.gone(ctx)
}

// VoicemailMessages lists ext's messages for the dialplan.
func (c *Call) VoicemailMessages(ctx context.Context, ext string) ([]dialplan.VoicemailMessage, error) {
	if c.e.boxes == nil {
		return nil, fmt.Errorf("voicemail: %w", errNoVoicemail)
	}
	msgs, err := c.e.boxes.Messages(ctx, ext)
	if err != nil {
		return nil, err
	}
	out := make([]dialplan.VoicemailMessage, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, dialplan.VoicemailMessage{ID: m.ID, Caller: m.Caller, CallerName: m.CallerName,
			Time: m.Created, Duration: m.Duration, Heard: m.Heard, Path: c.e.boxes.File(m)})
	}
	return out, nil
}

// VoicemailHeard marks ext's message id as heard.
func (c *Call) VoicemailHeard(ctx context.Context, ext string, id int64) error {
	if c.e.boxes == nil {
		return fmt.Errorf("voicemail: %w", errNoVoicemail)
	}
	return c.e.boxes.MarkHeard(ctx, ext, id)
}

// VoicemailDelete deletes ext's message id.
func (c *Call) VoicemailDelete(ctx context.Context, ext string, id int64) error {
	if c.e.boxes == nil {
		return fmt.Errorf("voicemail: %w", errNoVoicemail)
	}
	return c.e.boxes.Delete(ctx, ext, id)
}
