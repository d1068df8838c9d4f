package contract_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgplane/orgplane/internal/rest"
	"github.com/orgplane/orgplane/internal/rest/contract"
)

// serve answers every request with code and body encoded as JSON, as a
// handler does, and returns what a client receives for method path.
func serve(t *testing.T, method, path string, code int, body any) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}))
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func check(t *testing.T, method, path string, code int, body any) error {
	t.Helper()
	v, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	resp, b := serve(t, method, path, code, body)
	return v.Check(method, path, resp.StatusCode, resp.Header, b)
}

var created = rest.IdentityOrganization{ID: "0b9e", Name: "Initech", CreatedBy: rest.CreatedBy{UserID: "carol", Type: "user"},
	CreatedAt: "2026-11-23T19:00:00Z"}

func TestAResponseAsDocumentedPasses(t *testing.T) {
	for _, path := range []string{"/v1/identity/organizations", "/apis/api.orgplane.io/v1/identity/organizations"} {
		if err := check(t, "POST", path, http.StatusOK, created); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	if err := check(t, "GET", "/organizations/acme/members", http.StatusNotFound, rest.Error{Code: 404, Message: "not found"}); err != nil {
		t.Error(err)
	}
}

// A handler that returns a field the document lacks fails validation:
// the document's objects refuse properties they do not list.
func TestAHandlerReturningAFieldTheDocumentLacksFails(t *testing.T) {
	withExtra := struct {
		rest.IdentityOrganization
		Secret string `json:"secret"`
	}{created, "s3cr3t"}
	err := check(t, "POST", "/v1/identity/organizations", http.StatusOK, withExtra)
	if err == nil || !strings.Contains(err.Error(), `"secret"`) {
		t.Fatalf("a response with a field the document lacks passed validation: %v", err)
	}
	err = check(t, "PUT", "/v1/organizations/verify", http.StatusOK, map[string]any{"valid": true, "inUse": false})
	if err == nil || !strings.Contains(err.Error(), `"inUse"`) {
		t.Fatalf("verify with an extra field passed validation: %v", err)
	}
}

func TestAResponseTheDocumentDoesNotAllowFails(t *testing.T) {
	for name, c := range map[string]struct {
		method, path string
		code         int
		body         any
	}{
		"a required field missing": {"PUT", "/v1/organizations/verify", http.StatusOK, map[string]any{}},
		"a field of the wrong type": {"GET", "/v1/identity/organizations", http.StatusOK,
			map[string]any{"organizations": []any{}, "totalResults": "1", "offset": 0, "limit": 20}},
		"an undocumented status":    {"GET", "/v1/organizations", http.StatusTeapot, rest.Error{Code: 418, Message: "teapot"}},
		"an error not as Error":     {"GET", "/v1/organizations/acme", http.StatusNotFound, map[string]any{"error": "no"}},
		"an undocumented route":     {"GET", "/v1/nowhere", http.StatusOK, map[string]any{}},
		"seed 004's path under /v1": {"POST", "/organizations", http.StatusOK, map[string]any{"organization": nil}},
	} {
		if err := check(t, c.method, c.path, c.code, c.body); err == nil {
			t.Errorf("%s: passed validation", name)
		}
	}
}

func TestEveryRouteHasAnOperationWithAUniqueID(t *testing.T) {
	doc := rest.OpenAPI()
	ids := map[string]string{}
	routes := append(append(rest.Routes(), rest.Seed004Routes()...), "GET /v1/openapi.json")
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("%s is not in the document", r)
			continue
		}
		op := item.GetOperation(method)
		if op.OperationID == "" || op.Summary == "" || ids[op.OperationID] != "" {
			t.Errorf("%s: operationId %q (also %q), summary %q", r, op.OperationID, ids[op.OperationID], op.Summary)
		}
		ids[op.OperationID] = r
	}
}
