package callstory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/softswitch/softswitch/b2bua/store"
)

// Archive keeps stories across restarts (b2bua/store's call_history).
type Archive interface {
	ArchiveCalls(ctx context.Context, calls []store.ArchivedCall, keep int) error
	ArchivedCall(ctx context.Context, id string) (store.ArchivedCall, error)
}

// ErrUnknownCall is returned for a call neither recorded nor archived.
var ErrUnknownCall = errors.New("call history: no such call")

// archiveEvery is how often a Keeper writes the stories that changed.
const archiveEvery = time.Second

// Keeper archives what a Recorder records, so that `call show` finds the
// last calls after a restart too.
type Keeper struct {
	rec   *Recorder
	arch  Archive
	log   *slog.Logger
	every time.Duration // archiveEvery; tests shorten it

	mu  sync.Mutex    // one flush at a time: the fields below
	buf bytes.Buffer  // the stories of a flush, encoded
	enc *json.Encoder // into buf
}

// maxKeptBuffer bounds the encoding buffer a Keeper keeps between
// flushes; a larger one (a burst of calls) is dropped after its flush.
const maxKeptBuffer = 4 << 20

// NewKeeper archives rec's stories in arch, which keeps the newest
// rec.History() of them.
func NewKeeper(rec *Recorder, arch Archive, log *slog.Logger) *Keeper {
	return &Keeper{rec: rec, arch: arch, log: log, every: archiveEvery}
}

// Run archives, every second, the stories that changed and settled (see
// takeSettled) until ctx ends, and then all that changed (bounded by
// 5 s), so that a clean stop loses none.
func (k *Keeper) Run(ctx context.Context) {
	t := time.NewTicker(k.every)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := k.Flush(last); err != nil {
				k.log.Warn("call history: the last calls were not archived", "error", err)
			}
			return
		case now := <-t.C:
			err := k.flush(ctx, k.rec.takeSettled(now))
			switch {
			case err != nil && !failing && ctx.Err() == nil: // once, not every second
				failing = true
				k.log.Warn("call history: not archived, retrying every second", "error", err)
			case err == nil && failing:
				failing = false
				k.log.Info("call history: archived again")
			}
		}
	}
}

// Flush archives the stories that changed since the last Flush; on
// failure they are tried again at the next.
func (k *Keeper) Flush(ctx context.Context) error {
	return k.flush(ctx, k.rec.takeChanged())
}

// flush archives the stories changed; on failure they are tried again at
// the next flush.
func (k *Keeper) flush(ctx context.Context, changed []Story) error {
	if len(changed) == 0 {
		k.rec.forgetArchived(time.Now(), endedInMemory)
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// The stories are encoded one after the other into one buffer kept
	// from flush to flush (issue 20: json.Marshal's copy of each was 6 KB
	// a call); the archive has written them when ArchiveCalls returns.
	k.buf.Reset()
	if k.enc == nil {
		k.enc = json.NewEncoder(&k.buf)
	}
	calls := make([]store.ArchivedCall, 0, len(changed))
	ids := make([]string, 0, len(changed))
	ends := make([]int, 0, len(changed))
	now := time.Now()
	for _, st := range changed {
		if err := appendStory(&k.buf, k.enc, &st); err != nil {
			k.log.Warn("call history: story not archived", "call_id", st.CallID, "error", err)
			continue
		}
		calls = append(calls, store.ArchivedCall{CallID: st.CallID, Legs: st.Legs, Updated: now})
		ids = append(ids, st.CallID)
		ends = append(ends, k.buf.Len())
	}
	b, start := k.buf.Bytes(), 0
	for i, end := range ends {
		calls[i].Story = b[start:end:end]
		start = end
	}
	if k.buf.Cap() > maxKeptBuffer {
		defer func() { k.buf, k.enc = bytes.Buffer{}, nil }()
	}
	if err := k.arch.ArchiveCalls(ctx, calls, k.rec.History()); err != nil {
		k.rec.markChanged(ids)
		return fmt.Errorf("call history: archive %d calls: %w", len(calls), err)
	}
	k.rec.forgetArchived(time.Now(), endedInMemory)
	return nil
}

// Story returns the story of the call one of whose legs has Call-ID id:
// the recorder's while it keeps it, else the archived one.
// ErrUnknownCall when neither has it.
func (k *Keeper) Story(ctx context.Context, id string) (Story, error) {
	if st, ok := k.rec.Story(id); ok {
		return st, nil
	}
	a, err := k.arch.ArchivedCall(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Story{}, fmt.Errorf("%w: %s", ErrUnknownCall, id)
	}
	if err != nil {
		return Story{}, err
	}
	return DecodeStory(a.Story)
}

// EncodeStory is a story's archived form (JSON), as a Keeper writes it.
func EncodeStory(st Story) ([]byte, error) {
	var b bytes.Buffer
	if err := appendStory(&b, json.NewEncoder(&b), &st); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// appendStory appends st's archived form to buf through enc, an encoder
// writing into buf; on an error buf is left as it was.
func appendStory(buf *bytes.Buffer, enc *json.Encoder, st *Story) error {
	start := buf.Len()
	if err := enc.Encode(st); err != nil {
		buf.Truncate(start)
		return fmt.Errorf("call history: encode %s: %w", st.CallID, err)
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// DecodeStory reads what EncodeStory wrote, refusing a story without a
// call or a leg, and bounding what it keeps as a Recorder does.
func DecodeStory(b []byte) (Story, error) {
	var st Story
	if err := json.Unmarshal(b, &st); err != nil {
		return Story{}, fmt.Errorf("call history: decode: %w", err)
	}
	if st.CallID == "" || len(st.Legs) == 0 {
		return Story{}, errors.New("call history: decode: a story without its call id or legs")
	}
	if len(st.Entries) > maxEntries {
		st.Dropped += len(st.Entries) - maxEntries
		st.Entries = st.Entries[:maxEntries]
	}
	if len(st.Legs) > maxLegs {
		st.Legs = st.Legs[:maxLegs]
	}
	if len(st.Media) > maxLegs {
		st.Media = st.Media[:maxLegs]
	}
	return st, nil
}
