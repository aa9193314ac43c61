package dialplan_test

import (
	"slices"
	"testing"

	"github.com/softswitch/softswitch/dialplan"
	"github.com/softswitch/softswitch/dialplan/dialplantest"
)

func TestShippedScriptRoutes(t *testing.T) {
	if err := dialplan.Check(shippedScript); err != nil {
		t.Fatalf("Check(%s): %v", shippedScript, err)
	}
	const ring = "bridge user/1002 timeout=30s"
	tests := []struct {
		name    string
		dest    string
		bridges []dialplantest.BridgeResult
		want    []string
	}{
		{"test number", "07010002000", nil, []string{"answer", "play test-audio", "hangup normal"}},
		{"extension answers", "1002", []dialplantest.BridgeResult{{OK: true}}, []string{ring}},
		{"extension busy", "1002", []dialplantest.BridgeResult{{Reason: "busy"}}, []string{ring, "hangup busy"}},
		{"extension no answer", "1002", []dialplantest.BridgeResult{{Reason: "no-answer"}}, []string{ring, "hangup no-answer"}},
		{"extension not registered", "1002", []dialplantest.BridgeResult{{Reason: "unavailable"}}, []string{ring, "hangup unavailable"}},
		{"extension declines", "1002", []dialplantest.BridgeResult{{Reason: "declined"}}, []string{ring, "hangup declined"}},
		{"unknown extension", "1002", []dialplantest.BridgeResult{{Reason: "not-found"}}, []string{ring, "hangup not-found"}},
		{"unknown number", "12345", nil, []string{"hangup not-found"}},
		{"three digits", "100", nil, []string{"hangup not-found"}},
		{"e164", "+4930123456", nil, []string{"hangup not-found"}},
		{"empty", "", nil, []string{"hangup not-found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dialplantest.NewFakeSession("1001", tt.dest)
			s.Bridges = tt.bridges
			if err := dialplantest.Run(t, shippedScript, s); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := s.Calls(); !slices.Equal(got, tt.want) {
				t.Errorf("calls = %q, want %q", got, tt.want)
			}
		})
	}
}
