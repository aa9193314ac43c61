package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ArchivedCall is the kept story of one call, for `softswitch call show`.
// The store does not read Story: its encoding belongs to its writer.
type ArchivedCall struct {
	CallID  string   // leg A's Call-ID: the call's id
	Legs    []string // every leg's Call-ID, leg A first (read back so; on write leg A may be left out)
	Updated time.Time
	Story   []byte
}

// ArchiveCalls writes each call (replacing an earlier version of it, which
// then counts as the newest), then keeps only the newest keep calls
// (keep <= 0: all). One transaction for the lot.
func (s *Store) ArchiveCalls(ctx context.Context, calls []ArchivedCall, keep int) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: archive calls: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	st, err := s.prepareArchive(ctx, tx)
	if err != nil {
		return fmt.Errorf("store: archive calls: %w", err)
	}
	defer st.close()
	for _, c := range calls {
		if err := s.archiveCall(ctx, st, c); err != nil {
			return err
		}
	}
	if keep > 0 {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM call_history WHERE id <=
			(SELECT id FROM call_history ORDER BY id DESC LIMIT 1 OFFSET ?)`), keep); err != nil {
			return fmt.Errorf("store: archive calls: prune to %d: %w", keep, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: archive calls: commit: %w", err)
	}
	return nil
}

// archiveStmts are the statements that archive one call, prepared once
// per ArchiveCalls for all its calls (issue 20: preparing each statement
// for each call was a third of a flush).
type archiveStmts struct {
	del, ins, leg *sql.Stmt
	pg            bool // ins returns the id (RETURNING) rather than reporting it
}

func (s *Store) prepareArchive(ctx context.Context, tx *sql.Tx) (*archiveStmts, error) {
	st := &archiveStmts{pg: s.pg}
	ins := `INSERT INTO call_history (call_id, updated_ms, story) VALUES (?, ?, ?)`
	if s.pg {
		ins += " RETURNING id"
	}
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&st.del, `DELETE FROM call_history WHERE call_id = ?`},
		{&st.ins, ins},
		// A leg re-archived moves to the end (SQLite's REPLACE gives it a
		// new rowid; on PostgreSQL a new seq).
		{&st.leg, s.pick(`INSERT OR REPLACE INTO call_history_legs (leg_call_id, history_id) VALUES (?, ?)`,
			`INSERT INTO call_history_legs (leg_call_id, history_id) VALUES (?, ?)
			 ON CONFLICT (leg_call_id) DO UPDATE SET history_id = excluded.history_id, seq = DEFAULT`)},
	} {
		stmt, err := tx.PrepareContext(ctx, s.q(p.query))
		if err != nil {
			st.close()
			return nil, err
		}
		*p.stmt = stmt
	}
	return st, nil
}

func (st *archiveStmts) close() {
	for _, stmt := range []*sql.Stmt{st.del, st.ins, st.leg} {
		if stmt != nil {
			_ = stmt.Close()
		}
	}
}

// insert adds a call_history row and returns its id.
func (st *archiveStmts) insert(ctx context.Context, args ...any) (int64, error) {
	if st.pg {
		var id int64
		err := st.ins.QueryRowContext(ctx, args...).Scan(&id)
		return id, err
	}
	res, err := st.ins.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (s *Store) archiveCall(ctx context.Context, st *archiveStmts, c ArchivedCall) error {
	if c.CallID == "" {
		return errors.New("store: archive call: empty call id")
	}
	if c.Story == nil {
		c.Story = []byte{}
	}
	if _, err := st.del.ExecContext(ctx, c.CallID); err != nil {
		return fmt.Errorf("store: archive call %s: %w", c.CallID, err)
	}
	id, err := st.insert(ctx, c.CallID, toMillis(c.Updated), c.Story)
	if err != nil {
		return fmt.Errorf("store: archive call %s: %w", c.CallID, err)
	}
	seen := make(map[string]bool, len(c.Legs)+1)
	for _, leg := range append([]string{c.CallID}, c.Legs...) {
		if seen[leg] {
			continue
		}
		seen[leg] = true
		if _, err := st.leg.ExecContext(ctx, leg, id); err != nil {
			return fmt.Errorf("store: archive call %s: leg %s: %w", c.CallID, leg, err)
		}
	}
	return nil
}

// ArchivedCall returns the kept call one of whose legs has Call-ID id;
// ErrNotFound when none has (never kept, or pruned).
func (s *Store) ArchivedCall(ctx context.Context, id string) (ArchivedCall, error) {
	var c ArchivedCall
	var hid, updated int64
	err := s.reader.QueryRowContext(ctx, s.q(`SELECT h.id, h.call_id, h.updated_ms, h.story FROM call_history_legs l
		JOIN call_history h ON h.id = l.history_id WHERE l.leg_call_id = ?`), id).Scan(&hid, &c.CallID, &updated, &c.Story)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: archived call %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: archived call %s: %w", id, err)
	}
	c.Updated = fromMillis(updated)
	rows, err := s.reader.QueryContext(ctx, s.q(s.pick(`SELECT leg_call_id FROM call_history_legs WHERE history_id = ? ORDER BY rowid`,
		`SELECT leg_call_id FROM call_history_legs WHERE history_id = ? ORDER BY seq`)), hid)
	if err != nil {
		return c, fmt.Errorf("store: archived call %s: legs: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var leg string
		if err := rows.Scan(&leg); err != nil {
			return c, fmt.Errorf("store: archived call %s: legs: %w", id, err)
		}
		c.Legs = append(c.Legs, leg)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("store: archived call %s: legs: %w", id, err)
	}
	return c, nil
}

// ArchivedCallCount is how many calls are kept.
func (s *Store) ArchivedCallCount(ctx context.Context) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM call_history`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: archived calls: %w", err)
	}
	return n, nil
}
