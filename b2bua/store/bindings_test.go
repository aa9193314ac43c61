package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// contacts returns the Ext/Contact pairs of bs as "ext contact" strings.
func contacts(bs []Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Ext+" "+b.Contact)
	}
	return out
}

func TestSaveBinding(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		first := Binding{
			Ext: "1001", Contact: "sip:1001@10.0.0.5:5060;transport=udp", Instance: "<urn:uuid:a>", RegID: 1,
			Transport: "udp", Source: "10.0.0.5:5060", CallID: "c1", CSeq: 1, UserAgent: "phone/1",
			Expires: t0.Add(time.Hour), Updated: t0,
		}
		refresh := first
		refresh.CSeq, refresh.Source, refresh.Expires, refresh.Updated = 2, "10.0.0.6:5060", t0.Add(2*time.Hour), t0.Add(time.Minute)
		other := first
		other.Contact, other.Transport = "sip:1001@10.0.0.7:5061;transport=tls", "tls"

		tests := []struct {
			name    string
			save    []Binding
			want    []Binding
			wantErr error
			anyErr  bool
		}{
			{name: "insert", save: []Binding{first}, want: []Binding{first}},
			{name: "upsert same contact", save: []Binding{first, refresh}, want: []Binding{refresh}},
			{name: "second contact", save: []Binding{other, first}, want: []Binding{first, other}},
			{name: "unknown user", save: []Binding{{Ext: "9999", Contact: "sip:x"}}, wantErr: ErrNotFound},
			{name: "empty contact", save: []Binding{{Ext: "1001"}}, anyErr: true},
			{name: "max cseq", save: []Binding{{Ext: "1001", Contact: "sip:m", CSeq: 1<<32 - 1, Updated: t0}},
				want: []Binding{{Ext: "1001", Contact: "sip:m", CSeq: 1<<32 - 1, Updated: t0}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				addUser(t, s, "1001")
				var err error
				for _, b := range tt.save {
					if err = s.SaveBinding(ctx, b); err != nil {
						break
					}
				}
				switch {
				case tt.anyErr:
					if err == nil {
						t.Fatal("SaveBinding succeeded, want error")
					}
					return
				case !errors.Is(err, tt.wantErr):
					t.Fatalf("SaveBinding error = %v, want %v", err, tt.wantErr)
				}
				got, err := s.BindingsFor(ctx, "1001")
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("BindingsFor =\n%+v\nwant\n%+v", got, tt.want)
				}
			})
		}
	})
}

func TestSaveBindingSetsUpdated(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		s := db.newStore(t)
		addUser(t, s, "1001")
		before := time.Now().Truncate(time.Millisecond)
		if err := s.SaveBinding(ctx, Binding{Ext: "1001", Contact: "sip:a"}); err != nil {
			t.Fatal(err)
		}
		bs, err := s.BindingsFor(ctx, "1001")
		if err != nil || len(bs) != 1 {
			t.Fatalf("BindingsFor = %v, %v", bs, err)
		}
		if u := bs[0].Updated; u.Before(before) || u.After(time.Now()) {
			t.Errorf("Updated = %v, want about now", u)
		}
	})
}

func TestBindingsOrder(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		ctx := t.Context()
		s := db.newStore(t)
		for _, ext := range []string{"1002", "1001"} {
			addUser(t, s, ext)
		}
		for _, b := range []Binding{
			{Ext: "1002", Contact: "sip:b"}, {Ext: "1001", Contact: "sip:z"},
			{Ext: "1002", Contact: "sip:a"}, {Ext: "1001", Contact: "sip:c"},
		} {
			if err := s.SaveBinding(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name string
			list func() ([]Binding, error)
			want []string
		}{
			{name: "all", list: func() ([]Binding, error) { return s.Bindings(ctx) },
				want: []string{"1001 sip:c", "1001 sip:z", "1002 sip:a", "1002 sip:b"}},
			{name: "for 1002", list: func() ([]Binding, error) { return s.BindingsFor(ctx, "1002") },
				want: []string{"1002 sip:a", "1002 sip:b"}},
			{name: "for unknown", list: func() ([]Binding, error) { return s.BindingsFor(ctx, "9999") }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				bs, err := tt.list()
				if err != nil {
					t.Fatal(err)
				}
				if got := contacts(bs); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func TestDeleteBinding(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		tests := []struct {
			name    string
			ext     string
			contact string
			want    []string
		}{
			{name: "existing", ext: "1001", contact: "sip:a", want: []string{"1001 sip:b"}},
			{name: "absent contact", ext: "1001", contact: "sip:x", want: []string{"1001 sip:a", "1001 sip:b"}},
			{name: "absent user", ext: "9999", contact: "sip:a", want: []string{"1001 sip:a", "1001 sip:b"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				addUser(t, s, "1001")
				for _, c := range []string{"sip:a", "sip:b"} {
					if err := s.SaveBinding(ctx, Binding{Ext: "1001", Contact: c}); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.DeleteBinding(ctx, tt.ext, tt.contact); err != nil {
					t.Fatalf("DeleteBinding: %v", err)
				}
				bs, err := s.Bindings(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := contacts(bs); !slices.Equal(got, tt.want) {
					t.Errorf("Bindings = %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func TestDeleteBindingsWhere(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		seed := []Binding{
			{Ext: "1001", Contact: "sip:udp", Transport: "udp"},
			{Ext: "1001", Contact: "sip:tcp", Transport: "tcp"},
			{Ext: "1001", Contact: "sip:ws", Transport: "ws"},
			{Ext: "1002", Contact: "sip:wss", Transport: "wss"},
			{Ext: "1002", Contact: "sip:tls", Transport: "TLS"},
			// Through a proxy: its connection is the proxy's, never deleted here.
			{Ext: "1002", Contact: "sip:proxied", Transport: "wss", Path: "<sip:127.0.0.10;lr>"},
		}
		tests := []struct {
			name       string
			transports []string
			wantN      int
			want       []string
		}{
			{name: "nil list", transports: nil, wantN: 0,
				want: []string{"1001 sip:tcp", "1001 sip:udp", "1001 sip:ws", "1002 sip:proxied", "1002 sip:tls", "1002 sip:wss"}},
			{name: "websockets", transports: []string{"ws", "wss"}, wantN: 2,
				want: []string{"1001 sip:tcp", "1001 sip:udp", "1002 sip:proxied", "1002 sip:tls"}},
			{name: "case insensitive", transports: []string{"tls", "TCP"}, wantN: 2,
				want: []string{"1001 sip:udp", "1001 sip:ws", "1002 sip:proxied", "1002 sip:wss"}},
			{name: "no match", transports: []string{"sctp"}, wantN: 0,
				want: []string{"1001 sip:tcp", "1001 sip:udp", "1001 sip:ws", "1002 sip:proxied", "1002 sip:tls", "1002 sip:wss"}},
			{name: "all", transports: []string{"udp", "tcp", "tls", "ws", "wss"}, wantN: 5, want: []string{"1002 sip:proxied"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				addUser(t, s, "1001")
				addUser(t, s, "1002")
				for _, b := range seed {
					if err := s.SaveBinding(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
				n, err := s.DeleteBindingsWhere(ctx, tt.transports)
				if err != nil {
					t.Fatalf("DeleteBindingsWhere: %v", err)
				}
				if n != tt.wantN {
					t.Errorf("deleted %d, want %d", n, tt.wantN)
				}
				bs, err := s.Bindings(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := contacts(bs); !slices.Equal(got, tt.want) {
					t.Errorf("Bindings = %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func TestDeleteExpired(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		seed := []Binding{
			{Ext: "1001", Contact: "sip:past", Expires: now.Add(-time.Minute)},
			{Ext: "1001", Contact: "sip:now", Expires: now},
			{Ext: "1001", Contact: "sip:soon", Expires: now.Add(time.Second)},
			{Ext: "1001", Contact: "sip:later", Expires: now.Add(time.Hour)},
			{Ext: "1001", Contact: "sip:zero"},
		}
		tests := []struct {
			name  string
			now   time.Time
			wantN int
			want  []string
		}{
			{name: "before all", now: now.Add(-time.Hour), wantN: 1,
				want: []string{"1001 sip:later", "1001 sip:now", "1001 sip:past", "1001 sip:soon"}},
			{name: "at now", now: now, wantN: 3, want: []string{"1001 sip:later", "1001 sip:soon"}},
			{name: "after soon", now: now.Add(2 * time.Second), wantN: 4, want: []string{"1001 sip:later"}},
			{name: "after all", now: now.Add(24 * time.Hour), wantN: 5},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				addUser(t, s, "1001")
				for _, b := range seed {
					if err := s.SaveBinding(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
				n, err := s.DeleteExpired(ctx, tt.now)
				if err != nil {
					t.Fatalf("DeleteExpired: %v", err)
				}
				if n != tt.wantN {
					t.Errorf("deleted %d, want %d", n, tt.wantN)
				}
				bs, err := s.Bindings(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := contacts(bs); !slices.Equal(got, tt.want) {
					t.Errorf("Bindings = %v, want %v", got, tt.want)
				}
			})
		}
	})
}

func BenchmarkSaveBinding(b *testing.B) {
	ctx := context.Background()
	s := openAt(b, filepath.Join(b.TempDir(), "bench.db"))
	const users = 100
	for i := range users {
		addUser(b, s, fmt.Sprint(1000+i))
	}
	expires := time.Now().Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		ext := fmt.Sprint(1000 + i%users)
		err := s.SaveBinding(ctx, Binding{
			Ext:       ext,
			Contact:   fmt.Sprintf("sip:%s@10.0.%d.%d:5060", ext, i/users%4, i%250),
			Transport: "udp",
			Source:    "10.0.0.1:5060",
			CallID:    "bench",
			CSeq:      uint32(i),
			Expires:   expires,
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}
