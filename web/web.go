// Package web serves the browser phone (JsSIP, at /) and its self-test
// page (/selftest), embedded in the binary.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the embedded static files, and /selftest.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The embed pattern above guarantees the folder exists.
		return http.NotFoundHandler()
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.FS(sub)))
	mux.HandleFunc("/selftest", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, sub, "selftest.html")
	})
	return mux
}
