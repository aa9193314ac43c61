package store

import (
	"errors"
	"testing"
)

func TestMeta(t *testing.T) {
	backends(t, func(t *testing.T, db backend) {
		tests := []struct {
			name    string
			set     [][2]string
			key     string
			want    string
			wantErr error
		}{
			{name: "missing", key: "k", wantErr: ErrNotFound},
			{name: "set", set: [][2]string{{"k", "v"}}, key: "k", want: "v"},
			{name: "overwrite", set: [][2]string{{"k", "v1"}, {"k", "v2"}}, key: "k", want: "v2"},
			{name: "empty value", set: [][2]string{{"k", ""}}, key: "k", want: ""},
			{name: "other key", set: [][2]string{{"a", "1"}}, key: "b", wantErr: ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := t.Context()
				s := db.newStore(t)
				for _, kv := range tt.set {
					if err := s.SetMeta(ctx, kv[0], kv[1]); err != nil {
						t.Fatalf("SetMeta: %v", err)
					}
				}
				got, err := s.Meta(ctx, tt.key)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Meta error = %v, want %v", err, tt.wantErr)
				}
				if got != tt.want {
					t.Errorf("Meta = %q, want %q", got, tt.want)
				}
			})
		}
	})
}
