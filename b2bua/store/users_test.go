package store

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestAddUser(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		created := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
		tests := []struct {
			name    string
			seed    []string
			user    User
			wantErr error // a specific error expected
			anyErr  bool  // some error expected
		}{
			{name: "new", user: User{Ext: "1001", Name: "Alice", Realm: "pbx", HA1MD5: "m", HA1SHA256: "s", Created: created}},
			{name: "zero created set to now", user: User{Ext: "1002"}},
			{name: "duplicate", seed: []string{"1001"}, user: User{Ext: "1001"}, wantErr: ErrExists},
			{name: "empty ext", user: User{}, anyErr: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				for _, ext := range tt.seed {
					addUser(t, s, ext)
				}
				before := time.Now().Truncate(time.Millisecond)
				err := s.AddUser(ctx, tt.user)
				switch {
				case tt.anyErr:
					if err == nil {
						t.Fatal("AddUser succeeded, want error")
					}
					return
				case tt.wantErr != nil:
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("AddUser error = %v, want %v", err, tt.wantErr)
					}
					return
				case err != nil:
					t.Fatalf("AddUser: %v", err)
				}
				got, err := s.User(ctx, tt.user.Ext)
				if err != nil {
					t.Fatalf("User: %v", err)
				}
				want := tt.user
				if want.Created.IsZero() {
					if got.Created.Before(before) || got.Created.After(time.Now()) {
						t.Errorf("Created = %v, want about now", got.Created)
					}
					want.Created = got.Created
				}
				if got != want {
					t.Errorf("User = %+v, want %+v", got, want)
				}
				if got.Created.Location() != time.UTC {
					t.Errorf("Created location = %v, want UTC", got.Created.Location())
				}
			})
		}
	})
}

func TestUserNotFound(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		s := db.newStore(t)
		if _, err := s.User(t.Context(), "9999"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("User error = %v, want ErrNotFound", err)
		}
	})
}

func TestUsersAndCount(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		tests := []struct {
			name string
			add  []string
			want []string
		}{
			{name: "empty", add: nil, want: nil},
			{name: "ordered by ext", add: []string{"1003", "1001", "2000", "1002"}, want: []string{"1001", "1002", "1003", "2000"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				for _, ext := range tt.add {
					addUser(t, s, ext)
				}
				us, err := s.Users(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, u := range us {
					got = append(got, u.Ext)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("Users = %v, want %v", got, tt.want)
				}
				n, err := s.UserCount(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n != len(tt.want) {
					t.Errorf("UserCount = %d, want %d", n, len(tt.want))
				}
			})
		}
	})
}

func TestSetUserHA1(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		tests := []struct {
			name    string
			ext     string
			wantErr error
		}{
			{name: "existing", ext: "1001"},
			{name: "missing", ext: "1999", wantErr: ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				if err := s.AddUser(ctx, User{Ext: "1001", Name: "Alice", Realm: "old", HA1MD5: "old-md5", HA1SHA256: "old-sha"}); err != nil {
					t.Fatal(err)
				}
				err := s.SetUserHA1(ctx, tt.ext, "new", "new-md5", "new-sha")
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SetUserHA1 error = %v, want %v", err, tt.wantErr)
				}
				u, err := s.User(ctx, "1001")
				if err != nil {
					t.Fatal(err)
				}
				want := [3]string{"old", "old-md5", "old-sha"}
				if tt.wantErr == nil {
					want = [3]string{"new", "new-md5", "new-sha"}
				}
				if got := [3]string{u.Realm, u.HA1MD5, u.HA1SHA256}; got != want {
					t.Errorf("realm/ha1 = %v, want %v", got, want)
				}
				if u.Name != "Alice" {
					t.Errorf("Name = %q, want unchanged", u.Name)
				}
			})
		}
	})
}

func TestDeleteUser(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		tests := []struct {
			name         string
			ext          string
			wantErr      error
			wantUsers    int
			wantBindings int
		}{
			{name: "cascades to bindings", ext: "1001", wantUsers: 1, wantBindings: 1},
			{name: "missing", ext: "1999", wantErr: ErrNotFound, wantUsers: 2, wantBindings: 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				addUser(t, s, "1001")
				addUser(t, s, "1002")
				for _, b := range []Binding{
					{Ext: "1001", Contact: "sip:a"}, {Ext: "1001", Contact: "sip:b"}, {Ext: "1002", Contact: "sip:c"},
				} {
					if err := s.SaveBinding(ctx, b); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.DeleteUser(ctx, tt.ext); !errors.Is(err, tt.wantErr) {
					t.Fatalf("DeleteUser error = %v, want %v", err, tt.wantErr)
				}
				if n, err := s.UserCount(ctx); err != nil || n != tt.wantUsers {
					t.Errorf("UserCount = %d, %v; want %d", n, err, tt.wantUsers)
				}
				if bs, err := s.Bindings(ctx); err != nil || len(bs) != tt.wantBindings {
					t.Errorf("Bindings = %v, %v; want %d", bs, err, tt.wantBindings)
				}
				if tt.wantErr == nil {
					if _, err := s.User(ctx, tt.ext); !errors.Is(err, ErrNotFound) {
						t.Errorf("User after delete error = %v, want ErrNotFound", err)
					}
				}
			})
		}
	})
}
