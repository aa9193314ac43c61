package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestScrape(t *testing.T) {
	m, err := New(Sources{
		ActiveCalls:   func() int { return 3 },
		Registrations: func() map[string]int { return map[string]int{"wss": 2} },
		Auth:          func() (uint64, uint64, uint64) { return 5, 1, 7 },
		RateLimited:   func() map[string]uint64 { return map[string]uint64{"INVITE": 4} },
		Trunks:        func() map[string]bool { return map[string]bool{"carrier": true, "backup": false} },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.CallAnswered("relayed", 1500*time.Millisecond)
	m.CallAnswered("transcoded", 200*time.Millisecond)
	m.CallEnded("normal", "relayed")
	m.CallEnded("", "")
	m.SIP(true, "INVITE", 0)
	m.SIP(false, "INVITE", 200)
	m.SIP(true, "XYZZY", 0)
	m.SIP(true, strings.Repeat("A", 100), 0)
	m.DialplanError()
	m.CallMedia([]LegMedia{{Kind: "webrtc", Sent: 100, Received: 95, Lost: 5, Decoded: 95, Jitter: 4 * time.Millisecond, RTT: 40 * time.Millisecond}, {Kind: "rtp", Sent: 90, Received: 0}})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"softswitch_calls_active 3",
		`softswitch_registrations{transport="wss"} 2`,
		`softswitch_registrations{transport="udp"} 0`,
		"softswitch_auth_failures_total 5",
		"softswitch_auth_bans_total 1",
		"softswitch_auth_refused_total 7",
		`softswitch_rate_limited_total{method="INVITE"} 4`,
		`softswitch_trunk_up{trunk="carrier"} 1`,
		`softswitch_trunk_up{trunk="backup"} 0`,
		`softswitch_calls_answered{media="relayed"} 0`,
		`softswitch_calls_answered{media="transcoded"} 1`,
		`softswitch_calls_total{cause="normal"} 1`,
		`softswitch_calls_total{cause="unknown"} 1`,
		"softswitch_call_setup_seconds_count 2",
		`softswitch_call_setup_seconds_bucket{le="2"} 2`,
		`softswitch_call_setup_seconds_bucket{le="1"} 1`,
		`softswitch_sip_requests_total{direction="in",method="INVITE"} 1`,
		`softswitch_sip_requests_total{direction="in",method="other"} 2`,
		`softswitch_sip_responses_total{code="200",direction="out",method="INVITE"} 1`,
		"softswitch_dialplan_errors_total 1",
		`softswitch_rtp_packets_total{direction="out",kind="webrtc"} 100`,
		`softswitch_rtp_packets_total{direction="in",kind="rtp"} 0`,
		"softswitch_rtp_lost_total 5",
		"softswitch_rtp_loss_ratio_count 1",
		`softswitch_rtp_loss_ratio_bucket{le="0.05"} 1`,
		`softswitch_rtp_loss_ratio_bucket{le="0.02"} 0`,
		`softswitch_media_frames_total{path="decoded"} 95`,
		`softswitch_rtp_jitter_seconds_bucket{le="0.005"} 1`,
		`softswitch_rtp_jitter_seconds_bucket{le="0.001"} 0`,
		"softswitch_rtcp_round_trip_seconds_count 1",
		`softswitch_rtcp_round_trip_seconds_bucket{le="0.05"} 1`,
		"go_goroutines ",
		"process_open_fds ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}
