package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
)

func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	tests := map[string]struct {
		body string
		code int
	}{
		"one object":                  {body: `{"name":"Acme"}`},
		"white space after":           {body: "{\"name\":\"Acme\"}\n  "},
		"duplicate key":               {body: `{"name":"Acme","name":"Evil"}`, code: http.StatusBadRequest},
		"duplicate key in other case": {body: `{"name":"Acme","NAME":"Evil"}`, code: http.StatusBadRequest},
		"duplicate nested key":        {body: `{"name":"Acme","x":[{"a":1,"a":2}]}`, code: http.StatusBadRequest},
		"trailing object":             {body: `{"name":"Acme"}{"name":"Evil"}`, code: http.StatusBadRequest},
		"trailing garbage":            {body: `{"name":"Acme"} x`, code: http.StatusBadRequest},
		"unknown field":               {body: `{"name":"Acme","color":"red"}`, code: http.StatusBadRequest},
		"over the size limit":         {body: `{"name":"` + strings.Repeat("a", maxBody) + `"}`, code: http.StatusRequestEntityTooLarge},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/organizations/verify", strings.NewReader(tc.body))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, maxBody)
			var into struct {
				Name string `json:"name"`
				X    []map[string]int
			}
			err := decode(r, &into)
			if got := codeOf(err); got != tc.code {
				t.Fatalf("decode(%.40q): code %d (%v), want %d", tc.body, got, err, tc.code)
			}
		})
	}
}

func TestCheckMediaType(t *testing.T) {
	tests := map[string]struct {
		pattern, contentType, origin string
		code                         int
	}{
		"json":                                   {pattern: "PUT /v1/organizations/verify", contentType: "application/json"},
		"json with utf-8":                        {pattern: "PUT /v1/organizations/verify", contentType: "application/json; charset=UTF-8"},
		"text/plain on a json route":             {pattern: "POST /v1/organizations", contentType: "text/plain", code: http.StatusUnsupportedMediaType},
		"no content type (kubectl create --raw)": {pattern: "PUT /v1/organizations/verify"},
		"no content type from a browser":         {pattern: "PUT /v1/organizations/verify", origin: "https://evil.example", code: http.StatusUnsupportedMediaType},
		"no content type on a form-only route":   {pattern: "PATCH /v1/organizations/{id}", code: http.StatusUnsupportedMediaType},
		"form on a json route":                   {pattern: "PUT /v1/organizations/{id}/license", contentType: mediaForm, code: http.StatusUnsupportedMediaType},
		"form on seed 000's create":              {pattern: "POST /v1/organizations", contentType: mediaForm},
		"json on seed 000's create":              {pattern: "POST /v1/organizations", contentType: mediaJSON},
		"form on seed 000's update":              {pattern: "PATCH /v1/organizations/{id}", contentType: mediaForm},
		"json on seed 000's update":              {pattern: "PATCH /v1/organizations/{id}", contentType: mediaJSON, code: http.StatusUnsupportedMediaType},
		"json in another charset":                {pattern: "PUT /v1/organizations/verify", contentType: "application/json; charset=latin1", code: http.StatusUnsupportedMediaType},
		"multipart on a json route":              {pattern: "POST /v1/identity/organizations", contentType: "multipart/form-data; boundary=x", code: http.StatusUnsupportedMediaType},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			method, _, _ := strings.Cut(tc.pattern, " ")
			r := httptest.NewRequest(method, "/", strings.NewReader("x"))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if got := codeOf(checkMediaType(r, mediaTypesOf(tc.pattern))); got != tc.code {
				t.Fatalf("code %d, want %d", got, tc.code)
			}
		})
	}
}

func codeOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestServerErrorsCarryARequestIDAndNoInternals(t *testing.T) {
	w := httptest.NewRecorder()
	writeError(w, httptest.NewRequest(http.MethodGet, "/", nil), errors.New("etcd at 10.0.0.7:2379: secret detail"))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "10.0.0.7") {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	id := w.Header().Get("X-Request-Id")
	if id == "" || !strings.Contains(w.Body.String(), id) {
		t.Fatalf("no request id in %s", w.Body)
	}
}

func TestNoErrorAfterAnAnswerBegan(t *testing.T) {
	h := authenticated(func(w http.ResponseWriter, _ *http.Request, _ user.Info) error {
		writeJSON(w, http.StatusOK, map[string]string{"done": "yes"})
		return httpError(http.StatusConflict, "too late", nil)
	}, []string{mediaJSON})
	r := httptest.NewRequest(http.MethodGet, "/v1/organizations", nil)
	r = r.WithContext(request.WithUser(r.Context(), &user.DefaultInfo{Name: "alice"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "too late") {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}
