// Package web serves the browser phone (JsSIP, at /) and its self-test
// page (/selftest), embedded in the binary.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Option configures the pages.
type Option func(*site)

// site is what the pages learn from /site.js (window.softswitchSite).
// The phone and the self-test both include it, so a browser's self-test
// goes where its phone registers.
type site struct {
	WS string `json:"ws,omitempty"` // the WebSocket URL the phone registers on; "": this origin's /ws
}

// WithWebSocketURL makes the phone register on url (wss://...) instead of
// this server's /ws: behind a proxy such as Kamailio, the WebSocket ends
// on the proxy and calls go to any node.
func WithWebSocketURL(url string) Option {
	return func(s *site) { s.WS = url }
}

// siteDerived follows the data in /site.js: the one place that turns the
// configuration into the WebSocket URL the pages open (wsURL) and the
// origin whose certificate the browser must accept for it (wsOrigin).
const siteDerived = `(() => {
  const s = window.softswitchSite;
  s.wsURL = s.ws || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
  const u = new URL(s.wsURL);
  s.wsOrigin = (u.protocol === "wss:" ? "https://" : "http://") + u.host;
})();
`

// Handler serves the embedded static files, /selftest and /site.js.
func Handler(opts ...Option) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The embed pattern above guarantees the folder exists.
		return http.NotFoundHandler()
	}
	var cfg site
	for _, o := range opts {
		o(&cfg)
	}
	siteJS, err := json.Marshal(cfg)
	if err != nil { // cannot happen for a struct of strings
		siteJS = []byte("{}")
	}
	siteJS = append(append([]byte("window.softswitchSite = "), siteJS...), ";\n"+siteDerived...)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.FS(sub)))
	mux.HandleFunc("/site.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(siteJS)
	})
	mux.HandleFunc("/selftest", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, sub, "selftest.html")
	})
	return mux
}
