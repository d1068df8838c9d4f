package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

const baseCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func checkHeaders(t *testing.T, path string, rec *httptest.ResponseRecorder, csp string) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": csp,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
}

func TestFiles(t *testing.T) {
	h := Handler(Options{})
	for path, ct := range map[string]string{
		"/console/":            "text/html; charset=utf-8",
		"/console/app.js":      "text/javascript; charset=utf-8",
		"/console/app.css":     "text/css; charset=utf-8",
		"/console/config.json": "application/json",
	} {
		rec := get(t, h, http.MethodGet, path)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != ct {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, ct)
		}
		if rec.Body.Len() == 0 {
			t.Errorf("GET %s: empty body", path)
		}
		checkHeaders(t, path, rec, baseCSP)
		if head := get(t, h, http.MethodHead, path); head.Code != http.StatusOK || head.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d with %d bytes", path, head.Code, head.Body.Len())
		}
	}
	if body := get(t, h, http.MethodGet, "/console/").Body.String(); !strings.Contains(body, `<script type="module" src="app.js"></script>`) {
		t.Errorf("index.html does not load app.js as a module")
	}
}

func TestNotFoundRedirectAndMethods(t *testing.T) {
	h := Handler(Options{})
	for _, path := range []string{"/console/nope.js", "/console/static/app.js", "/console/index.html", "/console/../go.mod", "/other", "/console/app.js/"} {
		rec := get(t, h, http.MethodGet, path)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
		checkHeaders(t, path, rec, baseCSP)
	}
	rec := get(t, h, http.MethodGet, "/console")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d to %q, want 301 to /console/", rec.Code, rec.Header().Get("Location"))
	}
	checkHeaders(t, "/console", rec, baseCSP)
	rec = get(t, h, http.MethodPost, "/console/app.js")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /console/app.js: %d, want 405", rec.Code)
	}
	checkHeaders(t, "POST /console/app.js", rec, baseCSP)
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
		csp  string
	}{
		{"off", Options{}, `{}`, baseCSP},
		{"issuer without client", Options{OIDCIssuer: "https://id.example.com"}, `{}`, baseCSP},
		{"not a URL", Options{OIDCIssuer: "id.example.com", OIDCClientID: "console"}, `{}`, baseCSP},
		{"on", Options{OIDCIssuer: "https://id.example.com:8443/realms/x/", OIDCClientID: "console"},
			`{"oidc":{"clientId":"console","issuer":"https://id.example.com:8443/realms/x"}}`,
			"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
				"connect-src 'self' https://id.example.com:8443; form-action 'self' https://id.example.com:8443; base-uri 'none'; frame-ancestors 'none'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := Handler(tc.opts)
			rec := get(t, h, http.MethodGet, "/console/config.json")
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("config.json is not JSON: %v: %s", err, rec.Body)
			}
			_ = json.Unmarshal([]byte(tc.want), &want)
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("config.json = %s, want %s", g, w)
			}
			for _, path := range []string{"/console/", "/console/config.json", "/console/missing"} {
				checkHeaders(t, path, get(t, h, http.MethodGet, path), tc.csp)
			}
		})
	}
}

// TestNoInlineCode checks what the CSP would block anyway: inline scripts,
// styles and handlers, and HTML parsing of strings in app.js.
func TestNoInlineCode(t *testing.T) {
	html, err := os.ReadFile(filepath.Join("static", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(filepath.Join("static", "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`<style`, `style=`, `\son[a-z]+=`, `<script[^>]*>\s*[^<\s]`, `javascript:`} {
		if regexp.MustCompile(`(?i)` + re).Match(html) {
			t.Errorf("index.html matches %s", re)
		}
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "document.cookie", ".style."} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
