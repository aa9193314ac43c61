// Package web serves the browser phone page. The JsSIP phone itself comes
// with the WebRTC work; for now the page tells what runs where.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the embedded static files.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The embed pattern above guarantees the folder exists.
		return http.NotFoundHandler()
	}
	return http.FileServer(http.FS(sub))
}
