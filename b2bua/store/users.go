package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is a local subscriber (extension) with its digest credentials.
type User struct {
	Ext       string // extension, e.g. "1001" (primary key)
	Name      string // display name, may be empty
	Realm     string // digest realm the HA1s were computed for
	HA1MD5    string // hex MD5(user:realm:password)
	HA1SHA256 string // hex SHA-256(user:realm:password)
	Created   time.Time
}

const userColumns = `ext, name, realm, ha1_md5, ha1_sha256, created_ms`

// AddUser inserts u. It returns ErrExists if u.Ext is already taken.
// A zero u.Created is set to the current time.
func (s *Store) AddUser(ctx context.Context, u User) error {
	if u.Ext == "" {
		return errors.New("store: add user: empty extension")
	}
	if u.Created.IsZero() {
		u.Created = time.Now()
	}
	_, err := s.writer.ExecContext(ctx,
		s.q(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?)`),
		u.Ext, u.Name, u.Realm, u.HA1MD5, u.HA1SHA256, toMillis(u.Created))
	if isDuplicate(err) {
		return fmt.Errorf("%w: user %q", ErrExists, u.Ext)
	}
	if err != nil {
		return fmt.Errorf("store: add user %q: %w", u.Ext, err)
	}
	return nil
}

// SetUserHA1 replaces the realm and digest hashes of user ext, or returns
// ErrNotFound.
func (s *Store) SetUserHA1(ctx context.Context, ext, realm, ha1md5, ha1sha256 string) error {
	res, err := s.writer.ExecContext(ctx,
		s.q(`UPDATE users SET realm = ?, ha1_md5 = ?, ha1_sha256 = ? WHERE ext = ?`),
		realm, ha1md5, ha1sha256, ext)
	if err != nil {
		return fmt.Errorf("store: set ha1 of user %q: %w", ext, err)
	}
	return mustAffect(res, "set ha1 of user", ext)
}

// DeleteUser deletes user ext and all of its bindings, or returns
// ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, ext string) error {
	res, err := s.writer.ExecContext(ctx, s.q(`DELETE FROM users WHERE ext = ?`), ext)
	if err != nil {
		return fmt.Errorf("store: delete user %q: %w", ext, err)
	}
	return mustAffect(res, "delete user", ext)
}

// User returns user ext, or ErrNotFound.
func (s *Store) User(ctx context.Context, ext string) (User, error) {
	row := s.reader.QueryRowContext(ctx, s.q(`SELECT `+userColumns+` FROM users WHERE ext = ?`), ext)
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: user %q", ErrNotFound, ext)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: get user %q: %w", ext, err)
	}
	return u, nil
}

// Users returns all users ordered by extension.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY ext`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// UserCount returns the number of users.
func (s *Store) UserCount(ctx context.Context) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

func scanUser(sc scanner) (User, error) {
	var (
		u       User
		created int64
	)
	if err := sc.Scan(&u.Ext, &u.Name, &u.Realm, &u.HA1MD5, &u.HA1SHA256, &created); err != nil {
		return User{}, err
	}
	u.Created = fromMillis(created)
	return u, nil
}

// mustAffect turns "no row changed" into ErrNotFound.
func mustAffect(res sql.Result, op, ext string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s %q: %w", op, ext, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: user %q", ErrNotFound, ext)
	}
	return nil
}
