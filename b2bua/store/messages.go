package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Message is a SIP MESSAGE kept for an extension that had no device
// registered; Body and ContentType are kept untouched.
type Message struct {
	ID          int64
	Ext         string // the recipient
	Sender      string // the sender's extension
	ContentType string
	Body        []byte
	Created     time.Time
}

// ErrFull is returned when an extension already has as many messages
// waiting as it may.
var ErrFull = errors.New("store: full")

// AddMessage stores a message for later delivery and returns its id; it
// refuses (ErrFull) when the extension already has maxPending waiting.
func (s *Store) AddMessage(ctx context.Context, m Message, maxPending int) (int64, error) {
	if m.Ext == "" {
		return 0, fmt.Errorf("store: add message: ext is required")
	}
	if m.Body == nil {
		m.Body = []byte{}
	}
	// PostgreSQL types a bare parameter in a SELECT list as text: cast.
	id, err := s.insertID(ctx, s.writer, s.pick(`INSERT INTO messages (ext, sender, content_type, body, created_ms)
		SELECT ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM messages WHERE ext = ?) < ?`,
		`INSERT INTO messages (ext, sender, content_type, body, created_ms)
		SELECT ?::text, ?::text, ?::text, ?::bytea, ?::bigint WHERE (SELECT COUNT(*) FROM messages WHERE ext = ?) < ?`),
		m.Ext, m.Sender, m.ContentType, m.Body, toMillis(m.Created), m.Ext, maxPending)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: add message for %s: %w", m.Ext, ErrFull)
	}
	if err != nil {
		return 0, fmt.Errorf("store: add message for %s: %w", m.Ext, err)
	}
	return id, nil
}

// PendingMessages returns up to limit of ext's waiting messages, oldest first.
func (s *Store) PendingMessages(ctx context.Context, ext string, limit int) ([]Message, error) {
	rows, err := s.reader.QueryContext(ctx, s.q(`SELECT id, ext, sender, content_type, body, created_ms
		FROM messages WHERE ext = ? ORDER BY id LIMIT ?`), ext, limit)
	if err != nil {
		return nil, fmt.Errorf("store: messages of %s: %w", ext, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var created int64
		if err := rows.Scan(&m.ID, &m.Ext, &m.Sender, &m.ContentType, &m.Body, &created); err != nil {
			return nil, fmt.Errorf("store: messages of %s: %w", ext, err)
		}
		m.Created = fromMillis(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages of %s: %w", ext, err)
	}
	return out, nil
}

// DeleteMessage removes a delivered message; ErrNotFound when it is gone.
func (s *Store) DeleteMessage(ctx context.Context, id int64) error {
	res, err := s.writer.ExecContext(ctx, s.q(`DELETE FROM messages WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("store: delete message %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store: delete message %d: %w", id, ErrNotFound)
	}
	return nil
}
