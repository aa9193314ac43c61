package voicemail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
	"github.com/softswitch/softswitch/sounds"
)

// ErrNoMailbox is returned for an extension that does not exist.
var ErrNoMailbox = errors.New("voicemail: no such extension")

// Rate is the sample rate messages are stored at.
const Rate = 8000

// Store is the part of the store mailboxes use.
type Store interface {
	User(ctx context.Context, ext string) (store.User, error)
	AddVoicemail(ctx context.Context, v store.Voicemail) (int64, error)
	Voicemails(ctx context.Context, ext string) ([]store.Voicemail, error)
	VoicemailCounts(ctx context.Context, ext string) (newMsgs, oldMsgs int, err error)
	MarkVoicemailHeard(ctx context.Context, ext string, id int64) error
	DeleteVoicemail(ctx context.Context, ext string, id int64) error
}

// Notifier hears of every change of a mailbox.
type Notifier interface {
	MailboxChanged(ext string)
}

// Boxes are the mailboxes of all extensions.
type Boxes struct {
	st     Store
	data   string // the data directory; files are under data/voicemail
	log    *slog.Logger
	notify Notifier
}

// New returns the mailboxes kept in st and under dataDir. notify may be
// nil.
func New(st Store, dataDir string, notify Notifier, log *slog.Logger) *Boxes {
	return &Boxes{st: st, data: dataDir, notify: notify, log: log}
}

// SetNotifier sets who hears of changes; call it before use.
func (b *Boxes) SetNotifier(n Notifier) { b.notify = n }

// Exists reports whether ext is an extension (and so has a mailbox).
func (b *Boxes) Exists(ctx context.Context, ext string) (bool, error) {
	_, err := b.st.User(ctx, ext)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("voicemail: %w", err)
	}
}

// Deposit stores a message for m.Ext: pcm (mono, Rate Hz) to a new file,
// then its row. It works on a context of its own (bounded), so that a
// message is kept when the call that left it has just ended.
func (b *Boxes) Deposit(ctx context.Context, m store.Voicemail, pcm []int16) (store.Voicemail, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if m.Ext == "" || m.Ext[0] == '.' || filepath.Base(m.Ext) != m.Ext {
		return m, fmt.Errorf("voicemail: mailbox %q: %w", m.Ext, ErrNoMailbox)
	}
	if m.Created.IsZero() {
		m.Created = time.Now()
	}
	m.Duration = time.Duration(len(pcm)) * time.Second / Rate
	m.Path = filepath.Join("voicemail", m.Ext, m.Created.UTC().Format("20060102T150405Z")+"-"+rand.Text()[:8]+".wav")
	if err := sounds.WriteFile(filepath.Join(b.data, m.Path), &sounds.Prompt{Rate: Rate, PCM: pcm}); err != nil {
		return m, fmt.Errorf("voicemail: %w", err)
	}
	id, err := b.st.AddVoicemail(ctx, m)
	if err != nil {
		return m, fmt.Errorf("voicemail: %w (the audio is kept in %s)", err, m.Path)
	}
	m.ID = id
	b.log.Info("voicemail left", "ext", m.Ext, "caller", m.Caller, "id", id, "duration", m.Duration.Round(time.Millisecond), "path", m.Path)
	b.changed(m.Ext)
	return m, nil
}

// Messages returns ext's messages, oldest first.
func (b *Boxes) Messages(ctx context.Context, ext string) ([]store.Voicemail, error) {
	msgs, err := b.st.Voicemails(ctx, ext)
	if err != nil {
		return nil, fmt.Errorf("voicemail: %w", err)
	}
	return msgs, nil
}

// Counts returns how many of ext's messages are new and old.
func (b *Boxes) Counts(ctx context.Context, ext string) (newMsgs, oldMsgs int, err error) {
	return b.st.VoicemailCounts(ctx, ext)
}

// File returns the absolute path of a message's audio.
func (b *Boxes) File(m store.Voicemail) string { return filepath.Join(b.data, m.Path) }

// DefaultGreeting is the prompt played for a mailbox without a greeting
// of its own.
const DefaultGreeting = "vm-greeting"

// Greeting returns ext's greeting: DATA/voicemail/EXT/greeting.wav when
// it exists (record it with call:record and move it there, or put any
// WAV file there), else DefaultGreeting.
func (b *Boxes) Greeting(ext string) string {
	if ext != "" && ext[0] != '.' && filepath.Base(ext) == ext {
		path := filepath.Join(b.data, "voicemail", ext, "greeting.wav")
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			return path
		}
	}
	return DefaultGreeting
}

// MarkHeard marks ext's message id as heard.
func (b *Boxes) MarkHeard(ctx context.Context, ext string, id int64) error {
	if err := b.st.MarkVoicemailHeard(ctx, ext, id); err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	b.changed(ext)
	return nil
}

// Delete deletes ext's message id: its row, then its file.
func (b *Boxes) Delete(ctx context.Context, ext string, id int64) error {
	msgs, err := b.st.Voicemails(ctx, ext)
	if err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	var path string
	for _, m := range msgs {
		if m.ID == id {
			path = m.Path
		}
	}
	if err := b.st.DeleteVoicemail(ctx, ext, id); err != nil {
		return fmt.Errorf("voicemail: %w", err)
	}
	if path != "" {
		if err := os.Remove(filepath.Join(b.data, path)); err != nil && !errors.Is(err, os.ErrNotExist) {
			b.log.Warn("voicemail: deleted message's file not removed", "ext", ext, "id", id, "path", path, "error", err)
		}
	}
	b.log.Info("voicemail deleted", "ext", ext, "id", strconv.FormatInt(id, 10))
	b.changed(ext)
	return nil
}

func (b *Boxes) changed(ext string) {
	if b.notify != nil {
		b.notify.MailboxChanged(ext)
	}
}
