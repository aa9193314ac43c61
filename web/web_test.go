package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/", 200, `href="selftest"`},
		{"/selftest", 200, "selftest.js"},
		{"/selftest", 200, `<script src="site.js"></script>`}, // registers where the phone does
		{"/", 200, `<script src="site.js"></script>`},
		{"/selftest.js", 200, "window.selftest"},
		{"/words.js", 200, "function login"},
		{"/nothing-here", 404, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("GET %s: %d, want %d with %q:\n%.300s", tc.path, rec.Code, tc.code, tc.want, rec.Body.String())
		}
	}
}

// /site.js tells the phone where to register: this origin by default, the
// configured WebSocket (a proxy) otherwise.
func TestSiteJS(t *testing.T) {
	for _, tc := range []struct {
		h    http.Handler
		want string
	}{
		{Handler(), "window.softswitchSite = {};"},
		{Handler(WithWebSocketURL("wss://127.0.0.10:8443")), `window.softswitchSite = {"ws":"wss://127.0.0.10:8443"};`},
	} {
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/site.js", nil))
		first, rest, _ := strings.Cut(rec.Body.String(), "\n")
		if rec.Code != 200 || first != tc.want || !strings.Contains(rest, "s.wsURL = s.ws ||") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("GET /site.js: %d %q %q, want %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), tc.want)
		}
	}
}
