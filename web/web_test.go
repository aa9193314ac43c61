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
