package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/softswitch/softswitch/b2bua/store/pgtest"
)

// The store's test suite runs on both databases: each test that is not
// about SQLite itself runs once per backend, as subtests "sqlite" and
// "postgres". PostgreSQL is a throwaway server of the test's own (started
// at the first test that needs it, stopped by TestMain), each test with a
// database of its own.

type backend struct {
	name string
	pg   bool
}

var backendList = []backend{{name: DriverSQLite}, {name: DriverPostgres, pg: true}}

// backends runs f once per backend.
func backends(t *testing.T, f func(t *testing.T, db backend)) {
	t.Helper()
	for _, b := range backendList {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

var pg struct {
	once sync.Once
	srv  *pgtest.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pg.srv != nil {
		if err := pg.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop postgres:", err)
		}
	}
	os.Exit(code)
}

func pgServer(t testing.TB) *pgtest.Server {
	t.Helper()
	pg.once.Do(func() { pg.srv, pg.err = pgtest.Start(context.Background()) })
	if pg.err != nil {
		t.Fatalf("postgres for the store tests: %v (run make deps)", pg.err)
	}
	return pg.srv
}

// location is a fresh database: an SQLite path, or a new PostgreSQL
// database's DSN.
func (b backend) location(t testing.TB) string {
	t.Helper()
	if !b.pg {
		return filepath.Join(t.TempDir(), "softswitch.db")
	}
	dsn, err := pgServer(t).NewDatabase(context.Background(), "store")
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// open opens the database at loc.
func (b backend) open(ctx context.Context, loc string) (*Store, error) {
	if b.pg {
		return OpenConfig(ctx, Config{Driver: DriverPostgres, DSN: loc})
	}
	return Open(ctx, loc)
}

// openAt opens loc and closes it when the test ends.
func (b backend) openAt(t testing.TB, loc string) *Store {
	t.Helper()
	s, err := b.open(context.Background(), loc)
	if err != nil {
		t.Fatalf("open %s %q: %v", b.name, loc, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newStore opens a fresh database.
func (b backend) newStore(t testing.TB) *Store {
	t.Helper()
	return b.openAt(t, b.location(t))
}
