package store

import (
	"context"
	"fmt"
	"time"
)

// Voicemail is one message left for an extension. Its audio is the file
// Path, relative to the data directory.
type Voicemail struct {
	ID         int64
	Ext        string
	Caller     string
	CallerName string
	CallID     string
	Created    time.Time
	Duration   time.Duration
	Path       string
	Heard      bool
}

// AddVoicemail stores a message and returns its id.
func (s *Store) AddVoicemail(ctx context.Context, v Voicemail) (int64, error) {
	if v.Ext == "" || v.Path == "" {
		return 0, fmt.Errorf("store: add voicemail: ext and path are required")
	}
	heard := 0
	if v.Heard {
		heard = 1
	}
	id, err := s.insertID(ctx, s.writer, `INSERT INTO voicemail (ext, caller, caller_name, call_id, created_ms, duration_ms, path, heard)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, v.Ext, v.Caller, v.CallerName, v.CallID, toMillis(v.Created),
		v.Duration.Milliseconds(), v.Path, heard)
	if err != nil {
		return 0, fmt.Errorf("store: add voicemail for %s: %w", v.Ext, err)
	}
	return id, nil
}

// Voicemails returns ext's messages, oldest first.
func (s *Store) Voicemails(ctx context.Context, ext string) ([]Voicemail, error) {
	rows, err := s.reader.QueryContext(ctx, s.q(`SELECT id, ext, caller, caller_name, call_id, created_ms, duration_ms, path, heard
		FROM voicemail WHERE ext = ? ORDER BY id`), ext)
	if err != nil {
		return nil, fmt.Errorf("store: voicemails of %s: %w", ext, err)
	}
	defer rows.Close()
	var out []Voicemail
	for rows.Next() {
		var v Voicemail
		var created, dur, heard int64
		if err := rows.Scan(&v.ID, &v.Ext, &v.Caller, &v.CallerName, &v.CallID, &created, &dur, &v.Path, &heard); err != nil {
			return nil, fmt.Errorf("store: voicemails of %s: %w", ext, err)
		}
		v.Created, v.Duration, v.Heard = fromMillis(created), time.Duration(dur)*time.Millisecond, heard != 0
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: voicemails of %s: %w", ext, err)
	}
	return out, nil
}

// VoicemailCounts returns how many of ext's messages are new (not heard)
// and old.
func (s *Store) VoicemailCounts(ctx context.Context, ext string) (newMsgs, oldMsgs int, err error) {
	err = s.reader.QueryRowContext(ctx, s.q(`SELECT COUNT(CASE WHEN heard = 0 THEN 1 END), COUNT(CASE WHEN heard <> 0 THEN 1 END)
		FROM voicemail WHERE ext = ?`), ext).Scan(&newMsgs, &oldMsgs)
	if err != nil {
		return 0, 0, fmt.Errorf("store: voicemail counts of %s: %w", ext, err)
	}
	return newMsgs, oldMsgs, nil
}

// MarkVoicemailHeard marks ext's message id as heard; ErrNotFound when
// ext has no such message.
func (s *Store) MarkVoicemailHeard(ctx context.Context, ext string, id int64) error {
	return s.voicemailExec(ctx, "mark voicemail heard", `UPDATE voicemail SET heard = 1 WHERE ext = ? AND id = ?`, ext, id)
}

// DeleteVoicemail deletes ext's message id (the row; its file is the
// caller's); ErrNotFound when ext has no such message.
func (s *Store) DeleteVoicemail(ctx context.Context, ext string, id int64) error {
	return s.voicemailExec(ctx, "delete voicemail", `DELETE FROM voicemail WHERE ext = ? AND id = ?`, ext, id)
}

func (s *Store) voicemailExec(ctx context.Context, op, query string, ext string, id int64) error {
	res, err := s.writer.ExecContext(ctx, s.q(query), ext, id)
	if err != nil {
		return fmt.Errorf("store: %s %s/%d: %w", op, ext, id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store: %s %s/%d: %w", op, ext, id, ErrNotFound)
	}
	return nil
}
