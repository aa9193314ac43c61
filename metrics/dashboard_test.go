package metrics

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The example Grafana dashboard only queries metrics a scrape has.
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	raw, err := os.ReadFile("../configs/grafana/softswitch-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	m, err := New(Sources{ActiveCalls: func() int { return 0 }, Registrations: func() map[string]int { return map[string]int{} },
		Auth: func() (uint64, uint64, uint64) { return 0, 0, 0 }, RateLimited: func() map[string]uint64 { return map[string]uint64{"INVITE": 0} },
		Trunks: func() map[string]bool { return map[string]bool{"t": true} }})
	if err != nil {
		t.Fatal(err)
	}
	m.CallAnswered("relayed", 0) // vectors appear once they have a child
	m.CallEnded("normal", "relayed")
	m.SIP(true, "INVITE", 0)
	m.SIP(false, "INVITE", 486)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	names := regexp.MustCompile(`\b(softswitch_[a-z_]+|process_[a-z_]+|go_[a-z_]+)\b`)
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, name := range names.FindAllString(tg.Expr, -1) {
				n++
				if !strings.Contains(string(body), "\n"+name) {
					t.Errorf("panel %q queries %s, which no scrape has", p.Title, name)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d metric names found in the dashboard", n)
	}
}
