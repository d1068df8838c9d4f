package rest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
)

// Media types a body may have.
const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// formRoutes are seed 000's routes that take a form-encoded body (POST
// /v1/organizations takes JSON too). Every other route takes JSON only.
var formRoutes = map[string]bool{
	"POST /v1/organizations": true,
	patchOrganization000:     true,
}

// mediaTypesOf lists the media types a route's body may have.
func mediaTypesOf(pattern string) []string {
	if pattern == patchOrganization000 {
		return []string{mediaForm}
	}
	if formRoutes[pattern] {
		return []string{mediaJSON, mediaForm}
	}
	return []string{mediaJSON}
}

// checkMediaType refuses a body of a media type the route does not take
// (415): a browser sends text/plain, form and untyped bodies cross-site
// without a preflight, so a JSON route must never read them. A body with no
// Content-Type is read as JSON, as kube-apiserver reads it (`kubectl create
// --raw` sends none), only when no browser sent it: browsers always send
// Origin on cross-origin writes.
func checkMediaType(r *http.Request, allowed []string) error {
	if r.ContentLength == 0 || r.Method == http.MethodGet || r.Method == http.MethodDelete {
		return nil
	}
	if r.Header.Get("Content-Type") == "" && r.Header.Get("Origin") == "" && contains(allowed, mediaJSON) {
		return nil
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && contains(allowed, mt) && (params["charset"] == "" || strings.EqualFold(params["charset"], "utf-8")) {
		return nil
	}
	return httpError(http.StatusUnsupportedMediaType,
		fmt.Sprintf("Content-Type must be %s (charset utf-8 if any); got %q", strings.Join(allowed, " or "), r.Header.Get("Content-Type")), nil)
}

// decode reads a JSON body into into: one JSON object, no duplicate keys
// (in any case: encoding/json matches field names case-insensitively), no
// unknown fields, nothing after it; 413 over maxBody.
func decode(r *http.Request, into any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if err := checkDuplicateKeys(body); err != nil {
		return httpError(http.StatusBadRequest, fmt.Sprintf("Invalid JSON body: %v", err), nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return httpError(http.StatusBadRequest, fmt.Sprintf("Invalid JSON body: %v", err), nil)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return httpError(http.StatusBadRequest, "Invalid JSON body: send one JSON object and nothing after it", nil)
	}
	return nil
}

// bodyError is 413 for a body over maxBody, else 400.
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return httpError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes", tooLarge.Limit), nil)
	}
	return httpError(http.StatusBadRequest, fmt.Sprintf("Could not read the request body: %v", err), nil)
}

// checkDuplicateKeys refuses a JSON document in which an object has one
// key twice, compared case-insensitively.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return walkValue(dec)
}

func walkValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec)
	case json.Delim('['):
		for dec.More() {
			if err := walkValue(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}

func walkObject(dec *json.Decoder) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := strings.ToLower(tok.(string))
		if seen[key] {
			return fmt.Errorf("duplicate key %q", tok)
		}
		seen[key] = true
		if err := walkValue(dec); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// responseWriter remembers whether anything was written, so that an error
// found after a handler started its answer is logged, never appended.
type responseWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *responseWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// newRequestID is a random id that ties a 5xx answer to its log line.
func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// internalError logs err with a request id and returns the generic error a
// caller sees: a 5xx never carries internal details.
func internalError(r *http.Request, code int, err error) *Error {
	id := newRequestID()
	ctrl.Log.WithName("rest").Error(err, "Request failed", "requestID", id, "method", r.Method, "path", r.URL.Path)
	return httpError(code, fmt.Sprintf("Internal error; the server logged it with request id %s", id), map[string]string{"requestId": id})
}
