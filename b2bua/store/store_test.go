package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openAt opens a Store at path and closes it when the test ends.
func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newStore opens a fresh Store in a temporary directory.
func newStore(t testing.TB) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "softswitch.db"))
}

func addUser(t testing.TB, s *Store, ext string) {
	t.Helper()
	if err := s.AddUser(context.Background(), User{Ext: ext, Realm: "example.com"}); err != nil {
		t.Fatalf("AddUser(%q): %v", ext, err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{name: "plain", path: filepath.Join(dir, "a.db")},
		{name: "missing parent directories", path: filepath.Join(dir, "x", "y", "z", "b.db")},
		{name: "uri characters in name", path: filepath.Join(dir, "we?ird #name %41.db")},
		{name: "empty path", path: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s, err := Open(ctx, tt.path)
			if tt.wantErr {
				if err == nil {
					_ = s.Close()
					t.Fatal("Open succeeded, want error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			var version int
			if err := s.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
				t.Fatal(err)
			}
			if want := len(migrations()); version != want {
				t.Errorf("user_version = %d, want %d", version, want)
			}
			var mode string
			if err := s.reader.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" {
				t.Errorf("journal_mode = %q, want wal", mode)
			}
			var fk int
			if err := s.writer.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
				t.Fatal(err)
			}
			if fk != 1 {
				t.Errorf("foreign_keys = %d, want 1", fk)
			}
			// The file must be the one named by path, not a URI-mangled one.
			if _, err := os.Stat(tt.path); err != nil {
				t.Errorf("database file: %v", err)
			}
			s2 := openAt(t, tt.path)
			addUser(t, s, "1001")
			if _, err := s2.User(ctx, "1001"); err != nil {
				t.Errorf("second handle: %v", err)
			}
		})
	}
}

func TestReaderIsReadOnly(t *testing.T) {
	s := newStore(t)
	if _, err := s.reader.ExecContext(t.Context(), `INSERT INTO meta (key, value) VALUES ('k', 'v')`); err == nil {
		t.Fatal("write through reader pool succeeded, want error")
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(t.Context(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), path); err == nil {
		_ = s.Close()
		t.Fatal("Open of a newer schema succeeded, want error")
	}
}

func TestRestartKeepsData(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		path := db.location(t)
		created := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
		expires := time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
		u := User{Ext: "1001", Name: "Alice", Realm: "pbx", HA1MD5: "md5", HA1SHA256: "sha", Created: created}
		b := Binding{
			Ext: "1001", Contact: "sip:1001@10.0.0.5:5060", Instance: "<urn:uuid:1>", RegID: 1,
			Transport: "udp", Source: "10.0.0.5:5060", CallID: "cid", CSeq: 42, UserAgent: "ua",
			Expires: expires, Updated: created, Path: "<sip:127.0.0.10;lr;received=sip:127.0.0.1:5060>, <sip:edge.example;lr>",
		}

		s, err := db.open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveBinding(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMeta(ctx, "boot", "1"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		s = db.openAt(t, path)
		gotU, err := s.User(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		if gotU != u {
			t.Errorf("user after restart = %+v, want %+v", gotU, u)
		}
		gotB, err := s.BindingsFor(ctx, "1001")
		if err != nil {
			t.Fatal(err)
		}
		if len(gotB) != 1 || gotB[0] != b {
			t.Errorf("bindings after restart = %+v, want [%+v]", gotB, b)
		}
		if v, err := s.Meta(ctx, "boot"); err != nil || v != "1" {
			t.Errorf("Meta(boot) = %q, %v; want \"1\", nil", v, err)
		}
	})
}

// TestTwoHandles models the server and the operator CLI using the same file.
func TestTwoHandles(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		path := db.location(t)
		server := db.openAt(t, path)
		cli := db.openAt(t, path)

		if err := cli.AddUser(ctx, User{Ext: "2001", Realm: "pbx", HA1MD5: "a"}); err != nil {
			t.Fatal(err)
		}
		if _, err := server.User(ctx, "2001"); err != nil {
			t.Fatalf("server does not see user added by cli: %v", err)
		}
		if err := server.SaveBinding(ctx, Binding{Ext: "2001", Contact: "sip:2001@h", Transport: "tcp",
			Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if bs, err := cli.BindingsFor(ctx, "2001"); err != nil || len(bs) != 1 {
			t.Fatalf("cli BindingsFor = %v, %v; want 1 binding", bs, err)
		}
		if err := cli.SetUserHA1(ctx, "2001", "pbx", "b", "c"); err != nil {
			t.Fatal(err)
		}
		if u, err := server.User(ctx, "2001"); err != nil || u.HA1MD5 != "b" || u.HA1SHA256 != "c" {
			t.Fatalf("server User after passwd = %+v, %v", u, err)
		}
		if err := cli.DeleteUser(ctx, "2001"); err != nil {
			t.Fatal(err)
		}
		if bs, err := server.Bindings(ctx); err != nil || len(bs) != 0 {
			t.Fatalf("server Bindings after cli delete = %v, %v; want none", bs, err)
		}
	})
}

func TestConcurrentOpen(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		path := db.location(t)
		const n = 4
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				s, err := db.open(context.Background(), path)
				if err != nil {
					errs[i] = err
					return
				}
				errs[i] = errors.Join(
					s.AddUser(context.Background(), User{Ext: fmt.Sprint(3000 + i)}),
					s.Close(),
				)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("opener %d: %v", i, err)
			}
		}
		s := db.openAt(t, path)
		if got, err := s.UserCount(t.Context()); err != nil || got != n {
			t.Errorf("UserCount = %d, %v; want %d", got, err, n)
		}
	})
}

func TestConcurrentSaveBindings(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		path := db.location(t)
		stores := []*Store{db.openAt(t, path), db.openAt(t, path)}
		const (
			workers = 8
			perWork = 40
		)
		for w := range workers {
			addUser(t, stores[0], fmt.Sprint(4000+w))
		}

		var wg sync.WaitGroup
		errc := make(chan error, workers+1)
		done := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				s := stores[w%len(stores)]
				ext := fmt.Sprint(4000 + w)
				for i := range perWork {
					b := Binding{
						Ext:       ext,
						Contact:   fmt.Sprintf("sip:%s@10.0.0.%d:5060", ext, i%10), // repeats: upserts
						Transport: "udp",
						CSeq:      uint32(i),
						Expires:   time.Now().Add(time.Hour),
					}
					if err := s.SaveBinding(ctx, b); err != nil {
						errc <- err
						return
					}
				}
			})
		}
		var rwg sync.WaitGroup
		rwg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := stores[1].Bindings(ctx); err != nil {
					errc <- err
					return
				}
			}
		})
		wg.Wait()
		close(done)
		rwg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}

		bs, err := stores[0].Bindings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := workers * 10; len(bs) != want {
			t.Fatalf("got %d bindings, want %d", len(bs), want)
		}
		for _, b := range bs {
			if b.CSeq < perWork-10 {
				t.Errorf("binding %s kept CSeq %d, want the last write (>= %d)", b.Contact, b.CSeq, perWork-10)
			}
		}
	})
}

func TestMillis(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{name: "zero", in: time.Time{}, want: time.Time{}},
		{name: "utc", in: time.Date(2025, 1, 1, 0, 0, 0, 5_000_000, time.UTC), want: time.Date(2025, 1, 1, 0, 0, 0, 5_000_000, time.UTC)},
		{name: "truncates to ms", in: time.Date(2025, 1, 1, 0, 0, 0, 5_999_999, time.UTC), want: time.Date(2025, 1, 1, 0, 0, 0, 5_000_000, time.UTC)},
		{name: "other zone becomes utc", in: time.Date(2025, 1, 1, 2, 0, 0, 0, time.FixedZone("x", 2*3600)), want: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromMillis(toMillis(tt.in))
			if got != tt.want {
				t.Errorf("round trip of %v = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
