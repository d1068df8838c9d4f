// Package contract checks responses of the REST API against its OpenAPI
// document (rest.OpenAPI), with kin-openapi's openapi3filter. The REST,
// contract and e2e suites run every response they receive through it, so
// the document cannot drift from the server.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/orgplane/orgplane/internal/rest"
)

// aggregatedPrefix is where kube-apiserver serves the /v1/... routes.
const aggregatedPrefix = "/apis/" + rest.Group

// Validator checks responses against the document.
type Validator struct {
	router routers.Router
}

// New loads rest.OpenAPI() as a client would (encoded, then decoded and
// validated) and routes by path alone, whatever the host.
func New() (*Validator, error) {
	b, err := json.Marshal(rest.OpenAPI())
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Validator{router: router}, nil
}

// Check validates a response of status, header and body to method on
// target (a path with its query, directly or under /apis/api.orgplane.io).
// An undocumented route or status, or a body the document does not allow
// (a field it lacks, a missing required field, a wrong type), is an error.
func (v *Validator) Check(method, target string, status int, header http.Header, body []byte) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	u.Path = strings.TrimPrefix(u.Path, aggregatedPrefix)
	u.RawPath = ""
	req, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		return err
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in the OpenAPI document: %w", method, u.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s answered %d, not as the OpenAPI document says: %w\nbody: %s", method, target, status, err, body)
	}
	return nil
}
