package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
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
