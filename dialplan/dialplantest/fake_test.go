package dialplantest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestFakeSessionRecordsAndScripts(t *testing.T) {
	ctx := t.Context()
	s := dialplantest.NewFakeSession("1001", "1002")
	s.Headers = map[string]string{"X-Tenant": "acme"}
	s.Digits = []string{"42"}
	s.Bridges = []dialplantest.BridgeResult{{Reason: "busy"}}
	s.Errors = map[string]error{"ring": errors.New("no provisional")}

	steps := []struct {
		name string
		do   func() (string, error)
		want string
		err  bool
	}{
		{"identity", func() (string, error) {
			return s.ID() + " " + s.Caller() + " " + s.Destination() + " " + s.Transport(), nil
		}, "test-call 1001 1002 udp", false},
		{"header ignores case", func() (string, error) { return s.Header("x-tenant"), nil }, "acme", false},
		{"missing header", func() (string, error) { return s.Header("X-None"), nil }, "", false},
		{"scripted error", func() (string, error) { return "", s.Ring(ctx) }, "", true},
		{"collect", func() (string, error) { return s.Collect(ctx, dialplan.CollectOptions{Max: 2}) }, "42", false},
		{"collect after the script", func() (string, error) { return s.Collect(ctx, dialplan.CollectOptions{}) }, "", false},
		{"bridge outcome", func() (string, error) {
			ok, why, err := s.Bridge(ctx, []string{"user/1002"}, dialplan.BridgeOptions{Timeout: time.Second})
			if ok {
				why = "ok"
			}
			return why, err
		}, "busy", false},
		{"bridge answers by default", func() (string, error) {
			ok, _, err := s.Bridge(ctx, []string{"user/1002", "user/1003"}, dialplan.BridgeOptions{})
			if !ok {
				return "failed", err
			}
			return "ok", err
		}, "ok", false},
	}
	for _, st := range steps {
		got, err := st.do()
		if (err != nil) != st.err || got != st.want {
			t.Errorf("%s = %q, %v; want %q (error %v)", st.name, got, err, st.want, st.err)
		}
	}
	s.Set("tenant", "acme")
	if err := s.Hangup(ctx, "normal"); err != nil {
		t.Fatal(err)
	}
	want := []string{"ring", "collect max=2", "collect", "bridge user/1002 timeout=1s", "bridge user/1002,user/1003", "set tenant=acme", "hangup normal"}
	if got := s.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	if got := s.Vars()["tenant"]; got != "acme" {
		t.Errorf("vars[tenant] = %q", got)
	}
}

func TestFakeSessionPlayHonoursContext(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "1002")
	s.PlayDelay = time.Hour
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Play(ctx, "long"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Play = %v, want deadline exceeded", err)
	}
}

func TestRunHelper(t *testing.T) {
	s := dialplantest.NewFakeSession("1001", "07010002000")
	if err := dialplantest.Run(t, "../../scripts/dialplan.lua", s); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Calls(), []string{"answer", "play test-audio", "hangup normal"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
}
