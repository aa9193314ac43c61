package store

import (
	"context"
	"fmt"
	"time"
)

// CDR is the record of one call.
type CDR struct {
	CallID      string
	Caller      string
	Destination string
	Target      string // the leg B target that answered (or was last tried)
	Start       time.Time
	Answer      time.Time // zero when never answered
	End         time.Time
	Cause       string // hangup cause name ("normal", "busy", ...)
	SIPCode     int    // final SIP status sent to the caller (200 when answered)
	Q850        int
	Side        string // who hung up: "caller", "callee", "system"
	CodecA      string
	CodecB      string
}

// Duration is the billable time: from answer to end.
func (c CDR) Duration() time.Duration {
	if c.Answer.IsZero() {
		return 0
	}
	return c.End.Sub(c.Answer)
}

// SaveCDRs writes records in one transaction.
func (s *Store) SaveCDRs(ctx context.Context, cdrs []CDR) error {
	if len(cdrs) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: save cdrs: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO cdrs (call_id, caller, destination, target, start_ms, answer_ms, end_ms,
		cause, sip_code, q850, side, codec_a, codec_b) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("store: save cdrs: %w", err)
	}
	defer stmt.Close()
	for _, c := range cdrs {
		if _, err := stmt.ExecContext(ctx, c.CallID, c.Caller, c.Destination, c.Target, toMillis(c.Start), toMillis(c.Answer),
			toMillis(c.End), c.Cause, c.SIPCode, c.Q850, c.Side, c.CodecA, c.CodecB); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("store: save cdr %q: %w", c.CallID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: save cdrs: %w", err)
	}
	return nil
}

// CDRs returns the last n records (all when n <= 0), oldest first.
func (s *Store) CDRs(ctx context.Context, n int) ([]CDR, error) {
	if n <= 0 {
		n = -1
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT call_id, caller, destination, target, start_ms, answer_ms, end_ms,
		cause, sip_code, q850, side, codec_a, codec_b FROM (SELECT * FROM cdrs ORDER BY id DESC LIMIT ?) ORDER BY id`, n)
	if err != nil {
		return nil, fmt.Errorf("store: cdrs: %w", err)
	}
	defer rows.Close()
	var out []CDR
	for rows.Next() {
		var c CDR
		var start, answer, end int64
		if err := rows.Scan(&c.CallID, &c.Caller, &c.Destination, &c.Target, &start, &answer, &end,
			&c.Cause, &c.SIPCode, &c.Q850, &c.Side, &c.CodecA, &c.CodecB); err != nil {
			return nil, fmt.Errorf("store: cdrs: %w", err)
		}
		c.Start, c.Answer, c.End = fromMillis(start), fromMillis(answer), fromMillis(end)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: cdrs: %w", err)
	}
	return out, nil
}
