package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Binding is one registered contact of an address-of-record.
type Binding struct {
	Ext       string    // AOR user part
	Contact   string    // the Contact URI as registered, unique per Ext
	Instance  string    // +sip.instance value, may be empty
	RegID     int       // reg-id, 0 if none
	Transport string    // "udp", "tcp", "tls", "ws", "wss"
	Source    string    // "ip:port" the REGISTER came from
	CallID    string    // Call-ID of the REGISTER
	CSeq      uint32    // CSeq number of the REGISTER
	UserAgent string    // User-Agent header, may be empty
	Expires   time.Time // absolute expiry
	Updated   time.Time // last refresh
	// Path is the Path (RFC 3327) the REGISTER came through, its header
	// values joined by ", " (first: the proxy nearest to us); requests
	// to the contact are sent through it (Route). "" when direct.
	Path string
}

const bindingColumns = `ext, contact, instance, reg_id, transport, source, call_id, cseq, user_agent, expires_ms, updated_ms, path`

const upsertBinding = `INSERT INTO bindings (` + bindingColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	` + bindingConflict

// bindingConflict replaces a binding of the same Ext and Contact.
const bindingConflict = `ON CONFLICT (ext, contact) DO UPDATE SET
		instance   = excluded.instance,
		reg_id     = excluded.reg_id,
		transport  = excluded.transport,
		source     = excluded.source,
		call_id    = excluded.call_id,
		cseq       = excluded.cseq,
		user_agent = excluded.user_agent,
		expires_ms = excluded.expires_ms,
		updated_ms = excluded.updated_ms,
		path       = excluded.path`

// upsertBindingIfUser is upsertBinding for PostgreSQL inside SaveBindings:
// an error aborts a PostgreSQL transaction, so a binding whose user is gone
// inserts nothing instead of failing (one more argument: the ext again).
const upsertBindingIfUser = `INSERT INTO bindings (` + bindingColumns + `)
	SELECT ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::bigint, ?::text, ?::bigint, ?::bigint, ?::text
	WHERE EXISTS (SELECT 1 FROM users WHERE ext = ?)
	` + bindingConflict

func bindingArgs(b Binding) []any {
	return []any{b.Ext, b.Contact, b.Instance, b.RegID, b.Transport, b.Source, b.CallID,
		int64(b.CSeq), b.UserAgent, toMillis(b.Expires), toMillis(b.Updated), b.Path}
}

// SaveBinding inserts b or replaces the binding with the same Ext and
// Contact. It returns ErrNotFound if user b.Ext does not exist. A zero
// b.Updated is set to the current time.
func (s *Store) SaveBinding(ctx context.Context, b Binding) error {
	if b.Ext == "" || b.Contact == "" {
		return errors.New("store: save binding: empty extension or contact")
	}
	if b.Updated.IsZero() {
		b.Updated = time.Now()
	}
	_, err := s.writer.ExecContext(ctx, s.q(upsertBinding), bindingArgs(b)...)
	if isMissingRef(err) {
		return fmt.Errorf("%w: user %q", ErrNotFound, b.Ext)
	}
	if err != nil {
		return fmt.Errorf("store: save binding %q %q: %w", b.Ext, b.Contact, err)
	}
	return nil
}

// SaveBindings saves bs as SaveBinding does, all in one transaction (one
// disk sync for many refreshes). A binding whose user no longer exists is
// skipped, not an error; it returns how many were saved.
func (s *Store) SaveBindings(ctx context.Context, bs []Binding) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: save bindings: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, s.q(s.pick(upsertBinding, upsertBindingIfUser)))
	if err != nil {
		return 0, fmt.Errorf("store: save bindings: %w", err)
	}
	defer stmt.Close()
	n := 0
	for _, b := range bs {
		if b.Ext == "" || b.Contact == "" {
			continue
		}
		if b.Updated.IsZero() {
			b.Updated = time.Now()
		}
		args := bindingArgs(b)
		if s.pg {
			args = append(args, b.Ext)
		}
		res, err := stmt.ExecContext(ctx, args...)
		if isMissingRef(err) {
			continue // the user was deleted meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("store: save binding %q %q: %w", b.Ext, b.Contact, err)
		}
		if s.pg {
			if k, err := res.RowsAffected(); err == nil && k == 0 {
				continue // the user was deleted meanwhile
			}
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: save bindings: %w", err)
	}
	return n, nil
}

// DeleteBinding deletes the binding of ext with the given contact. Deleting
// a binding that does not exist is not an error.
func (s *Store) DeleteBinding(ctx context.Context, ext, contact string) error {
	_, err := s.writer.ExecContext(ctx, s.q(`DELETE FROM bindings WHERE ext = ? AND contact = ?`), ext, contact)
	if err != nil {
		return fmt.Errorf("store: delete binding %q %q: %w", ext, contact, err)
	}
	return nil
}

// DeleteBindingsWhere deletes every binding whose transport is one of
// transports (compared case-insensitively) and returns how many were
// deleted. An empty list deletes nothing. Bindings with a Path (through a
// proxy, which holds the connection) are kept.
func (s *Store) DeleteBindingsWhere(ctx context.Context, transports []string) (int, error) {
	if len(transports) == 0 {
		return 0, nil
	}
	args := make([]any, len(transports))
	for i, t := range transports {
		args[i] = t
		if s.pg {
			args[i] = strings.ToLower(t) // no NOCASE collation there
		}
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(transports)), ", ")
	query := s.pick(`DELETE FROM bindings WHERE transport IN (`+marks+`) AND path = ''`,
		`DELETE FROM bindings WHERE lower(transport) IN (`+marks+`) AND path = ''`)
	res, err := s.writer.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, fmt.Errorf("store: delete bindings by transport: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete bindings by transport: %w", err)
	}
	return int(n), nil
}

// Bindings returns all bindings ordered by Ext, then Contact.
func (s *Store) Bindings(ctx context.Context) ([]Binding, error) {
	return s.queryBindings(ctx, "list bindings",
		`SELECT `+bindingColumns+` FROM bindings ORDER BY ext, contact`)
}

// BindingsFor returns the bindings of ext ordered by Contact. An unknown
// extension has no bindings; that is not an error.
func (s *Store) BindingsFor(ctx context.Context, ext string) ([]Binding, error) {
	return s.queryBindings(ctx, fmt.Sprintf("list bindings of %q", ext),
		s.q(`SELECT `+bindingColumns+` FROM bindings WHERE ext = ? ORDER BY contact`), ext)
}

// DeleteExpired deletes every binding whose Expires is not after now and
// returns how many were deleted.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := s.writer.ExecContext(ctx, s.q(`DELETE FROM bindings WHERE expires_ms <= ?`), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: delete expired bindings: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired bindings: %w", err)
	}
	return int(n), nil
}

func (s *Store) queryBindings(ctx context.Context, op, query string, args ...any) ([]Binding, error) {
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		var (
			b                Binding
			cseq             int64
			expires, updated int64
		)
		if err := rows.Scan(&b.Ext, &b.Contact, &b.Instance, &b.RegID, &b.Transport, &b.Source,
			&b.CallID, &cseq, &b.UserAgent, &expires, &updated, &b.Path); err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		b.CSeq = uint32(cseq)
		b.Expires = fromMillis(expires)
		b.Updated = fromMillis(updated)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return out, nil
}
