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
	const vm = "voicemail 1002 max=2m0s silence=5s"
	tests := []struct {
		name    string
		dest    string
		bridges []dialplantest.BridgeResult
		want    []string
		trunk   string          // the call comes from this carrier
		trunks  map[string]bool // configured trunks: up or down
	}{
		{"test number", "07010002000", nil, []string{"answer", "play test-audio", "hangup normal"}, "", nil},
		{"extension answers", "1002", []dialplantest.BridgeResult{{OK: true}}, []string{ring}, "", nil},
		{"extension busy", "1002", []dialplantest.BridgeResult{{Reason: "busy"}}, []string{ring, vm, "hangup normal"}, "", nil},
		{"extension no answer", "1002", []dialplantest.BridgeResult{{Reason: "no-answer"}}, []string{ring, vm, "hangup normal"}, "", nil},
		{"extension not registered", "1002", []dialplantest.BridgeResult{{Reason: "unavailable"}}, []string{ring, "hangup unavailable"}, "", nil},
		{"extension declines", "1002", []dialplantest.BridgeResult{{Reason: "declined"}}, []string{ring, "hangup declined"}, "", nil},
		{"unknown extension", "1002", []dialplantest.BridgeResult{{Reason: "not-found"}}, []string{ring, "hangup not-found"}, "", nil},
		{"conference room", "3000", nil, []string{"conference 3000 pin= max=0 moderator=false muted=false", "hangup normal"}, "", nil},
		{"conference room with a PIN", "3099", nil, []string{"conference 3099 pin=4711 max=0 moderator=false muted=false", "hangup normal"}, "", nil},
		{"conference by name", "conf-team", nil, []string{"conference conf-team pin= max=0 moderator=false muted=false", "hangup normal"}, "", nil},
		{"past the conference range", "3100", []dialplantest.BridgeResult{{OK: true}}, []string{"bridge user/3100 timeout=30s"}, "", nil},
		{"conference name with a path", "conf-../x", nil, []string{"hangup not-found"}, "", nil},
		{"unknown number", "12345", nil, []string{"hangup not-found"}, "", nil},
		{"three digits", "100", nil, []string{"hangup not-found"}, "", nil},
		{"e164", "+4930123456", nil, []string{"hangup not-found"}, "", nil},
		{"empty", "", nil, []string{"hangup not-found"}, "", nil},
		{"external via the first trunk up", "0+4930123", nil, []string{"bridge trunk/backup/+4930123 timeout=1m0s"}, "",
			map[string]bool{"carrier": false, "backup": true}},
		{"external, carrier busy", "004930123", []dialplantest.BridgeResult{{Reason: "busy"}},
			[]string{"bridge trunk/carrier/04930123 timeout=1m0s", "hangup busy"}, "", map[string]bool{"carrier": true}},
		{"external, no trunk up", "04930123", nil, []string{"hangup congestion"}, "", map[string]bool{"carrier": false}},
		{"external, no trunks configured", "04930123", nil, []string{"hangup congestion"}, "", nil},
		{"DID from a carrier", "+4930551002", []dialplantest.BridgeResult{{OK: true}}, []string{ring}, "carrier", nil},
		{"unknown DID from a carrier", "+49", nil, []string{"hangup not-found"}, "carrier", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dialplantest.NewFakeSession("1001", tt.dest)
			s.Bridges = tt.bridges
			s.Call.Trunk, s.Trunks = tt.trunk, tt.trunks
			// Within office hours, which only carrier calls depend on
			// (TestShippedOfficeHours tests the rest).
			if err := dialplantest.RunAt(t, shippedScript, s, fixedNow); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := s.Calls(); !slices.Equal(got, tt.want) {
				t.Errorf("calls = %q, want %q", got, tt.want)
			}
		})
	}
}
