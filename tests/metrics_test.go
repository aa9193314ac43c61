package tests

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape GETs path on the metrics listener.
func scrape(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	res, err := c.Get("http://" + addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// sample is the value of one sample line (name with its labels) in a scrape; -1 when absent.
func sample(body, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// The metrics listener serves a scrape promtool accepts; calls_active goes
// 0 -> 1 -> 0 across a call, which is counted by cause with its setup
// time; a wrong password counts as an auth failure; /healthz and /readyz
// answer.
func TestMetricsAndHealth(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatal("promtool not found: run `make deps` (Debian package prometheus)")
	}
	s := startServer(t, "", "--metrics", "127.0.0.1:0")
	addr := s.addr("metrics")
	if code, body := scrape(t, addr, "/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := scrape(t, addr, "/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	_, body := scrape(t, addr, "/metrics")
	promtool(t, body)
	if v := sample(body, "softswitch_calls_active"); v != 0 {
		t.Fatalf("calls_active before the call = %v:\n%s", v, grepLines(body, "softswitch_"))
	}
	failures := sample(body, "softswitch_auth_failures_total")

	rtp := newRTPPeer(t)
	cl, res := dialSIP(t, s, "udp").answered("07010002000", rtp.port())
	_, body = scrape(t, addr, "/metrics")
	if v := sample(body, "softswitch_calls_active"); v != 1 {
		t.Fatalf("calls_active during the call = %v", v)
	}
	waitFor(t, 5*time.Second, "calls_answered{prompt} at 1 during the call", func() bool { // counted as its CDR says "up"
		_, body = scrape(t, addr, "/metrics")
		return sample(body, `softswitch_calls_answered{media="prompt"}`) == 1
	})
	if v := sample(body, `softswitch_sip_requests_total{direction="in",method="INVITE"}`); v < 1 {
		t.Errorf("INVITE not counted: %v", v)
	}
	// The media endpoint's lines name their call.
	rtp.sendTone(mediaAddr(t, res.Body()), 1000, 200*time.Millisecond, nil)
	waitFor(t, 5*time.Second, "the latching line with its call_id", func() bool {
		return strings.Contains(grepLines(s.logs(), "rtp latched to peer source"), "call_id="+cl.c.callID+" leg=a")
	})
	cl.bye(res)
	waitFor(t, 10*time.Second, "calls_active back to 0", func() bool {
		_, body = scrape(t, addr, "/metrics")
		return sample(body, "softswitch_calls_active") == 0 && sample(body, `softswitch_calls_total{cause="normal"}`) == 1
	})
	if v := sample(body, `softswitch_rtp_packets_total{direction="out",kind="rtp"}`); v < 1 {
		t.Errorf("RTP packets sent to the phone, counted at the call's end: %v", v)
	}
	if v := sample(body, `softswitch_rtp_packets_total{direction="in",kind="rtp"}`); v < 1 {
		t.Errorf("RTP packets from the phone, counted at the call's end: %v", v)
	}
	if v := sample(body, "softswitch_call_setup_seconds_count"); v != 1 {
		t.Errorf("setup time observations = %v", v)
	}
	if v := sample(body, `softswitch_calls_answered{media="prompt"}`); v != 0 {
		t.Errorf("calls_answered{prompt} after the call = %v", v)
	}
	if v := sample(body, `softswitch_sip_responses_total{code="200",direction="out",method="INVITE"}`); v < 1 {
		t.Errorf("200 to INVITE not counted: %v", v)
	}

	// A wrong password is an auth failure.
	reg := dialSIP(t, s, "udp")
	reg.challenge(reg.mustRegister("1002", "", 60, "", 401))
	reg.mustRegister("1002", "wrong-password", 60, "", 403)
	_, body = scrape(t, addr, "/metrics")
	if v := sample(body, "softswitch_auth_failures_total"); v != failures+1 {
		t.Errorf("auth failures %v after a wrong password, want %v", v, failures+1)
	}
	if v := sample(body, `softswitch_registrations{transport="wss"}`); v != 0 {
		t.Errorf("registrations{wss} = %v", v)
	}
	promtool(t, body)
}

// promtool lints a scrape the way Prometheus' own tool does.
func promtool(t *testing.T, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// A metrics address already in use stops the start with one line and exit 1.
func TestMetricsPortInUse(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e := runCLIFail(t, "serve", "--data", t.TempDir(), "--sip", "127.0.0.1:0", "--sip-tls", "", "--https", "",
		"--ws", "127.0.0.1:0", "--dialplan", dialplanPath, "--webrtc-port", "0", "--metrics", busy.Addr().String())
	if last := lastLine(e); !strings.HasPrefix(last, "softswitch: metrics: ") || !strings.Contains(last, "address already in use") {
		t.Fatalf("last stderr line %q", last)
	}
}
