package e2e

import (
	"net/http"
	"testing"

	"github.com/orgplane/orgplane/internal/rest/contract"
)

// checkREST validates what kubectl received from the REST API (kubectl
// --raw succeeded, so a 200 JSON answer) against the OpenAPI document.
func checkREST(t *testing.T, method, path, body string) {
	t.Helper()
	v, err := contract.New()
	if err != nil {
		t.Fatal(err)
	}
	header := http.Header{"Content-Type": {"application/json"}}
	if err := v.Check(method, path, http.StatusOK, header, []byte(body)); err != nil {
		t.Error(err)
	}
}
