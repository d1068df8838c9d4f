// Package console serves orgplane's web console: a single page of plain
// HTML, CSS and ES module JavaScript (no build step, no third-party code)
// that calls the REST API from the API's own origin with the person's
// bearer token. The files hold no data; the routes they call authenticate
// every request.
package console

import (
	"embed"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

//go:embed static
var static embed.FS

// Options configure the console.
type Options struct {
	// OIDCIssuer and OIDCClientID turn on "Sign in with <issuer>": the
	// OAuth 2.0 authorization code flow with PKCE, for a public client.
	// OIDC is off unless both are set and the issuer is an absolute
	// http(s) URL.
	OIDCIssuer, OIDCClientID string
}

// file is one file the console serves.
type file struct {
	contentType string
	body        []byte
}

// Handler serves the console at /console/ (index.html), /console/app.js,
// /console/app.css and /console/config.json. It expects full request paths:
// mount it at "/console/" without stripping the prefix. /console redirects
// to /console/; any other path is 404, any method but GET and HEAD 405.
// Every response carries a strict Content-Security-Policy: no inline
// script or style, connections only to this origin and the OIDC issuer's.
func Handler(opts Options) http.Handler {
	issuerOrigin := originOf(opts.OIDCIssuer)
	if opts.OIDCClientID == "" {
		issuerOrigin = ""
	}
	config := []byte("{}")
	if issuerOrigin != "" {
		config, _ = json.Marshal(map[string]any{"oidc": map[string]string{
			"issuer": strings.TrimRight(opts.OIDCIssuer, "/"), "clientId": opts.OIDCClientID}})
	}
	files := map[string]file{
		"/console/":            {"text/html; charset=utf-8", mustRead("static/index.html")},
		"/console/app.js":      {"text/javascript; charset=utf-8", mustRead("static/app.js")},
		"/console/app.css":     {"text/css; charset=utf-8", mustRead("static/app.css")},
		"/console/config.json": {"application/json", config},
	}
	extra := ""
	if issuerOrigin != "" {
		extra = " " + issuerOrigin
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'" + extra + "; form-action 'self'" + extra + "; base-uri 'none'; frame-ancestors 'none'"

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		if r.URL.Path == "/console" {
			http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
			return
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", f.contentType)
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(f.body)
		}
	})
}

// originOf is the origin (scheme://host[:port]) of an absolute http(s)
// URL, else "".
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	// The origin goes into a header: only a host name or address and port.
	for _, c := range u.Host {
		if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", c) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}

func mustRead(name string) []byte {
	b, err := static.ReadFile(name)
	if err != nil {
		panic("console: " + name + " is not embedded: " + err.Error())
	}
	return b
}
