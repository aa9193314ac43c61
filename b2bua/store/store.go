package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "github.com/mattn/go-sqlite3"    // registers the "sqlite3" driver
)

const (
	driverName = "sqlite3"

	// writerParams are the DSN parameters of the single writer connection.
	writerParams = "_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_foreign_keys=on&_synchronous=NORMAL"

	// readerParams are those of the reader pool: the same, except that
	// transactions are deferred (an immediate BEGIN would take the write
	// lock) and the connections refuse to write.
	readerParams = "_journal_mode=WAL&_busy_timeout=5000&_txlock=deferred&_foreign_keys=on&_synchronous=NORMAL&_query_only=on"
)

// Store is a handle on one database: an SQLite file, or a PostgreSQL
// database several nodes share. It is safe for concurrent use; several
// Stores (in one or more processes) may share the same database.
type Store struct {
	writer *sql.DB // SQLite: exactly one connection, all writes are serialised here
	reader *sql.DB // SQLite: pool of read-only connections; PostgreSQL: the writer's pool

	pg      bool     // PostgreSQL: statements go through q (see dialect.go)
	rebound sync.Map // PostgreSQL: statement text -> its rewritten text
	node    string   // this node's name, written in its CDRs
}

// Config selects a database. The zero value is not usable: Open an SQLite
// file by path, or set DSN.
type Config struct {
	// Driver is DriverSQLite (default) or DriverPostgres.
	Driver string `yaml:"driver"`
	// DSN is the SQLite file's path, or a PostgreSQL connection string
	// (postgres://user@host:port/db?sslmode=disable, or key=value pairs).
	DSN string `yaml:"dsn"`
	// Node names this process in the CDRs it writes, so that nodes
	// sharing a database tell their records apart and each closes only
	// its own calls cut by a crash. Empty: a single node.
	Node string `yaml:"-"`
}

// OpenConfig opens the database cfg names and migrates its schema to the
// current version.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch cfg.Driver {
	case "", DriverSQLite, "sqlite3":
		s, err = Open(ctx, cfg.DSN)
	case DriverPostgres, "postgresql", "pgx":
		s, err = openPostgres(ctx, cfg.DSN)
	default:
		return nil, fmt.Errorf("store: open: unknown driver %q (want %q or %q)", cfg.Driver, DriverSQLite, DriverPostgres)
	}
	if err != nil {
		return nil, err
	}
	s.node = cfg.Node
	return s, nil
}

// openPostgres opens a pool on the PostgreSQL database dsn names.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("store: open postgres: empty dsn")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	n := max(8, 2*runtime.NumCPU())
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open postgres: %w", err), db.Close())
	}
	if err := migrate(ctx, db, true); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open postgres: %w", err), db.Close())
	}
	return &Store{writer: db, reader: db, pg: true}, nil
}

// Driver is DriverSQLite or DriverPostgres.
func (s *Store) Driver() string {
	if s.pg {
		return DriverPostgres
	}
	return DriverSQLite
}

// Node is the node name this Store writes in CDRs ("" for a single node).
func (s *Store) Node() string { return s.node }

// Open opens (creating if needed) the database at path, including its
// parent directory, and migrates the schema to the current version.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("store: open %q: create directory: %w", path, err)
	}

	writer, err := sql.Open(driverName, dsn(abs, writerParams))
	if err != nil {
		return nil, fmt.Errorf("store: open %q: writer: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	if err := migrateRetry(ctx, writer); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %q: %w", path, err), writer.Close())
	}

	reader, err := sql.Open(driverName, dsn(abs, readerParams))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %q: reader: %w", path, err), writer.Close())
	}
	n := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %q: reader: %w", path, err), reader.Close(), writer.Close())
	}

	return &Store{writer: writer, reader: reader}, nil
}

// dsn builds an SQLite URI for the absolute path abs. The path is escaped so
// that '?', '#' and '%' in file names cannot be mistaken for URI syntax.
func dsn(abs, params string) string {
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?" + params
}

// Close closes both connection pools.
func (s *Store) Close() error {
	if s.pg {
		if err := s.writer.Close(); err != nil {
			return fmt.Errorf("store: close: %w", err)
		}
		return nil
	}
	if err := errors.Join(s.reader.Close(), s.writer.Close()); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// scanner is satisfied by *sql.Row and *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// toMillis converts t to Unix milliseconds; the zero time becomes 0.
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of toMillis; the result is in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// migrateRetry runs migrate, retrying while another process holds the
// database: switching a new file to WAL takes a lock that SQLite's busy
// handler does not wait for, so two first opens at once can see "database
// is locked" straight away.
func migrateRetry(ctx context.Context, db *sql.DB) error {
	var err error
	for attempt := 0; attempt < 100; attempt++ {
		if err = migrate(ctx, db, false); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(10+attempt) * time.Millisecond):
		}
	}
	return err
}
