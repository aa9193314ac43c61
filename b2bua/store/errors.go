package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// PostgreSQL SQLSTATEs the store tells apart.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// ErrNotFound is returned when the requested user, binding owner or meta key
// does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrExists is returned when a user with the same extension already exists.
var ErrExists = errors.New("store: already exists")

// isConstraint reports whether err is an SQLite constraint error with one of
// the given extended codes.
func isConstraint(err error, codes ...sqlite3.ErrNoExtended) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code != sqlite3.ErrConstraint {
		return false
	}
	for _, c := range codes {
		if se.ExtendedCode == c {
			return true
		}
	}
	return false
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// isDuplicate reports whether err is a primary key or unique violation.
func isDuplicate(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgUniqueViolation
	}
	return isConstraint(err, sqlite3.ErrConstraintPrimaryKey, sqlite3.ErrConstraintUnique)
}

// isMissingRef reports whether err is a foreign key violation.
func isMissingRef(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgForeignKeyViolation
	}
	return isConstraint(err, sqlite3.ErrConstraintForeignKey)
}
