package rest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/orgplane/orgplane/internal/orgs"
)

// The OpenAPI 3.1 document is made from the route table (table and
// seed004Paths), the contracts below, and the schemas of schemas.go. It is
// served at /v1/openapi.json and printed by `orgplane openapi`.

// contract is what the document says of a route besides the route table.
type contract struct {
	ID    string      // operationId
	Tag   string      // group in the document
	JSON  any         // type of the JSON body, if any (a component of schemas.go)
	Form  any         // type of the form-encoded body, if any
	OK    map[int]any // success codes with the type of their body (nil for none, oneOf for one of several)
	Query []*openapi3.Parameter
	// Errors are error answers beyond those errorCodes gives every route
	// of its kind (e.g. 403 for a platform admins' route).
	Errors []int
}

const (
	tagOrganizations = "organizations"
	tagContext       = "organization in context"
	tagMembers       = "members"
	tagLicenses      = "licenses"
	tagIdentity      = "identity (seed 001)"
	tagSeed004       = "seed 004 paths (direct endpoint)"
	tagDocument      = "document"
)

var activeOnlyParam = openapi3.NewQueryParameter("active_only").WithDescription("true leaves out suspended organizations").
	WithSchema(openapi3.NewStringSchema().WithEnum("true", "false"))

// maxOffset is the largest offset orgs.ParsePage takes (openapi_test.go
// checks).
const maxOffset = 1 << 30

var (
	offsetParam = openapi3.NewQueryParameter("offset").WithDescription("The offset into queried items to return").
			WithSchema(openapi3.NewInt32Schema().WithMin(0).WithMax(maxOffset).WithDefault(0))
	limitParam = openapi3.NewQueryParameter("limit").
			WithDescription(fmt.Sprintf("How many items to return at one time (max %d)", orgs.MaxLimit)).
			WithSchema(openapi3.NewInt32Schema().WithMin(1).WithMax(orgs.MaxLimit).WithDefault(orgs.DefaultLimit))
)

// patchOrganization000 is seed 000's update, the one route that takes a form
// body only.
const patchOrganization000 = "PATCH /v1/organizations/{id}"

// contracts holds one entry per route of table ("METHOD path").
var contracts = map[string]contract{
	"PUT /v1/organization-license": {ID: "setContextLicense", Tag: tagContext, JSON: licenseRequest{},
		OK: map[int]any{200: assignedLicense{}, 204: nil}},
	"GET /v1/organizations": {ID: "listOrganizations", Tag: tagOrganizations, OK: map[int]any{200: organizationList{}},
		Query: []*openapi3.Parameter{activeOnlyParam}},
	"POST /v1/organizations": {ID: "createOrganization", Tag: tagOrganizations, JSON: createOrganizationRequest{},
		Form: nameForm{}, OK: map[int]any{200: oneOf{createdOrganization{}, wrappedOrganization{}}}},
	"GET /v1/organizations/accounts":        {ID: "listContextAccounts", Tag: tagContext, OK: map[int]any{200: accountList{}}},
	"GET /v1/organizations/accounts/all":    {ID: "listAllAccounts", Tag: tagOrganizations, OK: map[int]any{200: allAccounts{}}},
	"GET /v1/organizations/projects":        {ID: "listContextProjects", Tag: tagContext, OK: map[int]any{200: accountList{}}},
	"GET /v1/organizations/projects/all":    {ID: "listAllProjects", Tag: tagOrganizations, OK: map[int]any{200: allAccounts{}}},
	"GET /v1/organizations/users":           {ID: "listContextUsers", Tag: tagContext, OK: map[int]any{200: userList{}}},
	"PUT /v1/organizations/verify":          {ID: "verifyDisplayName", Tag: tagOrganizations, JSON: nameRequest{}, OK: map[int]any{200: verifyResult{}}},
	"GET /v1/organizations/{id}":            {ID: "getOrganization", Tag: tagOrganizations, OK: map[int]any{200: organizationBody{}}},
	"PUT /v1/organizations/{id}":            {ID: "updateOrganization", Tag: tagOrganizations, JSON: updateRequest{}, OK: map[int]any{200: organizationResource{}}},
	patchOrganization000:                    {ID: "updateOrganizationForm", Tag: tagOrganizations, Form: updateForm{}, OK: map[int]any{200: wrappedOrganization{}}},
	"DELETE /v1/organizations/{id}":         {ID: "deleteOrganization", Tag: tagOrganizations, OK: map[int]any{204: nil}},
	"PATCH /v1/organizations/{id}/metadata": {ID: "renameOrganization", Tag: tagOrganizations, JSON: nameRequest{}, OK: map[int]any{200: nil}},
	"GET /v1/organizations/{id}/license":    {ID: "getLicense", Tag: tagLicenses, OK: map[int]any{200: licenseView{}}},
	"PUT /v1/organizations/{id}/license": {ID: "setLicense", Tag: tagLicenses, JSON: licenseRequest{},
		OK: map[int]any{200: assignedLicense{}, 204: nil}},
	"DELETE /v1/organizations/{id}/license":           {ID: "unassignLicense", Tag: tagLicenses, OK: map[int]any{204: nil}},
	"GET /v1/organizations/{id}/members":              {ID: "listMembers", Tag: tagMembers, OK: map[int]any{200: memberList{}}},
	"POST /v1/organizations/{id}/members":             {ID: "addMember", Tag: tagMembers, JSON: memberRequest{}, OK: map[int]any{200: Member{}}},
	"DELETE /v1/organizations/{id}/members/{user_id}": {ID: "removeMember", Tag: tagMembers, OK: map[int]any{204: nil}},
	"PUT /v1/organizations/{id}/members/{user_id}":    {ID: "setMemberRole", Tag: tagMembers, JSON: roleRequest{}, OK: map[int]any{200: Member{}}},
	"GET /v1/organizations/{id}/accounts":             {ID: "listAccounts", Tag: tagOrganizations, OK: map[int]any{200: accountList{}}},
	"POST /v1/organizations/{id}/accounts": {ID: "createAccount", Tag: tagOrganizations, JSON: createAccountRequest{},
		OK: map[int]any{201: accountResource{}}},
	"PATCH /v1/organizations/{id}/accounts/{account_id}": {ID: "renameAccount", Tag: tagOrganizations, JSON: renameAccountRequest{},
		OK: map[int]any{200: accountResource{}}},
	"DELETE /v1/organizations/{id}/accounts/{account_id}": {ID: "deleteAccount", Tag: tagOrganizations, OK: map[int]any{204: nil}},
	"POST /v1/organizations/{id}/accounts/{account_id}/rotate-key": {ID: "rotateAccountKey", Tag: tagOrganizations,
		OK: map[int]any{200: accountResource{}}},
	"GET /v1/organizations/{id}/deployments": {ID: "listDeployments", Tag: tagOrganizations, OK: map[int]any{200: deploymentsBody{}}},
	"GET /v1/organizations/{id}/invitations": {ID: "listInvitations", Tag: tagMembers, OK: map[int]any{200: invitationList{}}},
	"POST /v1/organizations/{id}/invitations": {ID: "invite", Tag: tagMembers, JSON: inviteRequest{},
		OK: map[int]any{201: invitationResource{}}, Errors: []int{http.StatusTooManyRequests}},
	"POST /v1/organizations/{id}/invitations/{invitation_id}/resend": {ID: "resendInvitation", Tag: tagMembers,
		OK: map[int]any{200: invitationResource{}}},
	"DELETE /v1/organizations/{id}/invitations/{invitation_id}": {ID: "revokeInvitation", Tag: tagMembers, OK: map[int]any{204: nil}},
	"GET /v1/identity/invitations":                              {ID: "listMyInvitations", Tag: tagMembers, OK: map[int]any{200: invitationList{}}},
	"POST /v1/identity/invitations/{invitation_id}/accept": {ID: "acceptInvitation", Tag: tagMembers,
		OK: map[int]any{200: invitationResource{}}},
	"POST /v1/identity/invitations/{invitation_id}/decline": {ID: "declineInvitation", Tag: tagMembers,
		OK: map[int]any{200: invitationResource{}}},
	"GET /v1/organizations/{id}/domains":  {ID: "listDomains", Tag: tagMembers, OK: map[int]any{200: domainList{}}},
	"POST /v1/organizations/{id}/domains": {ID: "addDomain", Tag: tagMembers, JSON: domainRequest{}, OK: map[int]any{201: domainResource{}}},
	"POST /v1/organizations/{id}/domains/{domain_id}/verify": {ID: "verifyDomain", Tag: tagMembers,
		OK: map[int]any{200: domainResource{}}},
	"PUT /v1/organizations/{id}/domains/{domain_id}": {ID: "setEnrollment", Tag: tagMembers, JSON: domainRequest{},
		OK: map[int]any{200: domainResource{}}},
	"GET /v1/organizations/{id}/join-requests": {ID: "listJoinRequests", Tag: tagMembers, OK: map[int]any{200: joinRequestList{}}},
	"POST /v1/organizations/{id}/join-requests/{request_id}/approve": {ID: "approveJoinRequest", Tag: tagMembers,
		OK: map[int]any{200: joinRequestResource{}}},
	"POST /v1/organizations/{id}/join-requests/{request_id}/deny": {ID: "denyJoinRequest", Tag: tagMembers,
		OK: map[int]any{200: joinRequestResource{}}},
	"POST /v1/identity/organizations/{id}/join": {ID: "askToJoin", Tag: tagIdentity, OK: map[int]any{201: joinRequestResource{}}},
	"GET /v1/usage-report": {ID: "getUsageReport", Tag: tagLicenses, OK: map[int]any{200: usageReportBody{}},
		Errors: []int{http.StatusForbidden, http.StatusServiceUnavailable}},
	"GET /v1/identity/organizations": {ID: "listIdentityOrganizations", Tag: tagIdentity, OK: map[int]any{200: identityPage{}},
		Query: []*openapi3.Parameter{offsetParam, limitParam}},
	"POST /v1/identity/organizations":      {ID: "createIdentityOrganization", Tag: tagIdentity, JSON: identityCreateRequest{}, OK: map[int]any{200: IdentityOrganization{}}},
	"GET /v1/identity/organizations/{id}":  {ID: "getIdentityOrganization", Tag: tagIdentity, OK: map[int]any{200: identityOrganizationWithRole{}}},
	"POST /v1/identity/organizations/{id}": {ID: "renameIdentityOrganization", Tag: tagIdentity, JSON: nameRequest{}, OK: map[int]any{200: IdentityOrganization{}}},
}

// seed004Operations are the operationIds and summaries (the seed's own) of
// seed 004's paths; POST /organizations is its own route.
var seed004Operations = map[string][2]string{
	"GET /organizations":                           {"listOrgs", "List organizations the current user belongs to"},
	"POST /organizations":                          {"createOrg", "Create a new organization and add the current user as admin"},
	"GET /organizations/{id}":                      {"getOrg", "Get an organization"},
	"PUT /organizations/{id}":                      {"updateOrg", "Update name, description, active"},
	"DELETE /organizations/{id}":                   {"deleteOrg", "Delete an organization (admins)"},
	"GET /organizations/{id}/members":              {"getOrgMembers", "List all members of an organization"},
	"POST /organizations/{id}/members":             {"addOrgMember", "Add a user to the organization by email"},
	"DELETE /organizations/{id}/members/{user_id}": {"removeOrgMember", "Remove a user from the organization"},
	"GET /organizations/{id}/license":              {"getOrgLicense", "Get the organization's license; no license means the free plan"},
	"PUT /organizations/{id}/license":              {"assignOrgLicense", "Assign a license to the organization (replaces any existing one)"},
	"DELETE /organizations/{id}/license":           {"unassignOrgLicense", "Remove the license from the organization (downgrade to the free plan)"},
	"GET /organizations/{id}/deployments":          {"getOrgDeployments", "List all deployments of the organization"},
}

var createOrg004 = contract{JSON: nameDescriptionRequest{}, OK: map[int]any{200: organizationResource{}}}

const description = `Organizations, accounts, members and licenses of orgplane.

Every /v1/... route is served twice by one handler: directly by the manager's REST server, and through
kube-apiserver's aggregation layer at /apis/api.orgplane.io/v1/... (APIService v1.api.orgplane.io).
Seed 004's own /organizations/... paths are served on the direct endpoint only.

**Authentication.** Directly: a Kubernetes bearer token (TokenReview) or a client certificate signed by the
cluster's client CA. Through kube-apiserver: whatever your kubeconfig holds; kube-apiserver authenticates
you and forwards your identity as front-proxy headers (X-Remote-User, X-Remote-Group), which orgplane
trusts only together with the front proxy's client certificate. Anything else is 401.

**Errors** are {"code", "message", "details"}; a 4xx writes nothing.

Print this document offline with ` + "`orgplane openapi`" + `.`

// OpenAPI is the OpenAPI 3.1 document of every route.
func OpenAPI() *openapi3.T {
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info: &openapi3.Info{Title: "orgplane REST API", Version: Version, Description: description,
			License: &openapi3.License{Name: "Apache-2.0", URL: "https://www.apache.org/licenses/LICENSE-2.0"}},
		Servers:  openapi3.Servers{directServer, aggregatedServer},
		Security: openapi3.SecurityRequirements{{"bearerToken": {}}, {"clientCertificate": {}}},
		Tags: openapi3.Tags{{Name: tagContext, Description: "The organization of the caller's active account, or their only one"},
			{Name: tagDocument, Description: "This document"}, {Name: tagIdentity, Description: "Seed 001's shapes"},
			{Name: tagLicenses, Description: "Plans and licenses"}, {Name: tagMembers, Description: "Members and roles"},
			{Name: tagOrganizations, Description: "Organizations and their accounts"},
			{Name: tagSeed004, Description: "Seed 004's own paths, on the direct endpoint only; the same handlers as /v1/organizations/..."}},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{Schemas: newSchemaGen().schemas, Responses: errorResponses(),
			SecuritySchemes: securitySchemes()},
	}
	for _, rt := range table {
		c, ok := contracts[rt.Method+" "+rt.Path]
		if !ok {
			panic(fmt.Sprintf("route %s %s has no contract in openapi.go", rt.Method, rt.Path))
		}
		doc.AddOperation(rt.Path, rt.Method, operation(rt.Method, rt.Path, rt.Summary, "Seed "+rt.Seed+".", c))
	}
	for pattern, target := range seed004Paths {
		method, path, _ := strings.Cut(pattern, " ")
		op := seed004Operations[pattern]
		c := createOrg004
		if target != "" {
			c = contracts[target]
		}
		c.ID, c.Tag = op[0], tagSeed004
		desc := "Seed 004, on the direct endpoint only."
		if target != "" {
			desc = "Seed 004, on the direct endpoint only; the same as " + target + "."
		}
		doc.AddOperation(path, method, operation(method, path, op[1], desc, c))
		doc.Paths.Value(path).Servers = openapi3.Servers{directServer}
	}
	doc.AddOperation("/v1/openapi.json", http.MethodGet, openAPIOperation())
	return doc
}

// The servers are those of whichever cluster orgplane runs in; their
// defaults are those of a local control plane (`orgplane dev`). Both are
// for the API's clients (x-internal: false): the direct endpoint is what
// kube-apiserver proxies to, and what in-cluster clients of seed 004 call.
var (
	directServer = &openapi3.Server{URL: "https://{host}",
		Description: "Directly: the manager's REST server (--rest-bind-address); paths /v1/... and seed 004's /organizations/... ones. " +
			"The default host is a local control plane's (orgplane dev); for a test, staging or production cluster, use its address",
		Variables:  map[string]*openapi3.ServerVariable{"host": {Default: "127.0.0.1:8443", Description: "host:port of the REST server"}},
		Extensions: map[string]any{"x-internal": false}}
	aggregatedServer = &openapi3.Server{URL: "https://{apiserver}/apis/" + Group,
		Description: "Through kube-apiserver's aggregation layer: paths /v1/... under /apis/" + Group + ". " +
			"The default is a local control plane's kube-apiserver (orgplane dev); for a test, staging or production cluster, use its address",
		Variables:  map[string]*openapi3.ServerVariable{"apiserver": {Default: "127.0.0.1:6443", Description: "host:port of kube-apiserver"}},
		Extensions: map[string]any{"x-internal": false}}
)

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

func operation(method, path, summary, desc string, c contract) *openapi3.Operation {
	op := &openapi3.Operation{OperationID: c.ID, Summary: summary, Description: desc, Tags: []string{c.Tag},
		Responses: openapi3.NewResponses()}
	op.Responses.Delete("default")
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		schema := openapi3.NewStringSchema()
		limited(schema, paramMaxLengths[m[1]])
		op.AddParameter(openapi3.NewPathParameter(m[1]).WithSchema(schema).WithDescription(paramDescriptions[m[1]]))
	}
	for _, q := range c.Query {
		op.AddParameter(q)
	}
	op.RequestBody = requestBody(c)
	for code, body := range c.OK {
		op.AddResponse(code, successResponse(code, body))
	}
	for _, code := range errorCodes(method, path, c) {
		op.Responses.Set(strconv.Itoa(code), &openapi3.ResponseRef{Ref: "#/components/responses/" + errorNames[code]})
	}
	return op
}

var paramDescriptions = map[string]string{
	"id":            "The organization's name or id (uid)",
	"user_id":       "The member's User id (uid), username or member id",
	"account_id":    "The account's name or id (uid)",
	"invitation_id": "The invitation's id (uid); for admins also its object name",
	"domain_id":     "The domain (e.g. acme.example), which names it",
	"request_id":    "The join request's id (uid) or object name",
}

// paramMaxLengths name the maxLengths entry of each path parameter: the
// longest of the names it takes.
var paramMaxLengths = map[string]string{
	"id":            limitObjectName,
	"user_id":       "memberID",
	"account_id":    limitObjectName,
	"invitation_id": limitObjectName,
	"domain_id":     limitObjectName,
	"request_id":    limitObjectName,
}

func requestBody(c contract) *openapi3.RequestBodyRef {
	if c.JSON == nil && c.Form == nil {
		return nil
	}
	body := openapi3.NewRequestBody().WithRequired(true).WithContent(openapi3.Content{})
	if c.JSON != nil {
		body.Content[contentJSON] = openapi3.NewMediaType().WithSchemaRef(componentRef(c.JSON))
	}
	if c.Form != nil {
		body.Content[contentForm] = openapi3.NewMediaType().WithSchemaRef(componentRef(c.Form))
	}
	return &openapi3.RequestBodyRef{Value: body}
}

// oneOf is a body of one of several types.
type oneOf []any

// componentRef references the schema component of v's type, or of each of
// a oneOf.
func componentRef(v any) *openapi3.SchemaRef {
	many, ok := v.(oneOf)
	if !ok {
		return openapi3.NewSchemaRef("#/components/schemas/"+componentName(v), nil)
	}
	refs := make(openapi3.SchemaRefs, 0, len(many))
	for _, one := range many {
		refs = append(refs, componentRef(one))
	}
	return openapi3.NewSchemaRef("", &openapi3.Schema{OneOf: refs})
}

func successResponse(code int, body any) *openapi3.Response {
	r := openapi3.NewResponse().WithDescription(http.StatusText(code))
	if body != nil {
		r.WithContent(openapi3.Content{contentJSON: openapi3.NewMediaType().WithSchemaRef(componentRef(body))})
	}
	return r
}

var errorNames = map[int]string{
	http.StatusBadRequest: "BadRequest", http.StatusUnauthorized: "Unauthorized", http.StatusForbidden: "Forbidden",
	http.StatusNotFound: "NotFound", http.StatusConflict: "Conflict", http.StatusRequestEntityTooLarge: "RequestEntityTooLarge",
	http.StatusUnsupportedMediaType: "UnsupportedMediaType", http.StatusUnprocessableEntity: "UnprocessableEntity",
	http.StatusTooManyRequests: "TooManyRequests", http.StatusInternalServerError: "InternalServerError",
	http.StatusServiceUnavailable: "ServiceUnavailable",
}

var errorDescriptions = map[int]string{
	http.StatusBadRequest:            "The request is invalid; the message says what to change",
	http.StatusUnauthorized:          "No credentials the cluster accepts",
	http.StatusForbidden:             "The caller may not do this (e.g. a member where admins only may), or has no organization in context",
	http.StatusNotFound:              "Not found among the caller's organizations",
	http.StatusConflict:              "Conflicts with the current state (a display name taken, a limit reached, a license elsewhere)",
	http.StatusRequestEntityTooLarge: "The body is larger than 64 KiB",
	http.StatusUnsupportedMediaType:  "The body's media type is not one this route takes",
	http.StatusUnprocessableEntity:   "Invalid input (seed 000's form routes), or refused by the API server's validation",
	http.StatusTooManyRequests: "Through kube-apiserver only: its API Priority and Fairness turned the request away " +
		"(the caller's priority level is busy). The answer is kube-apiserver's, in plain text; retry after Retry-After seconds",
	http.StatusInternalServerError: "Internal error",
	http.StatusServiceUnavailable:  "Not ready yet (e.g. the installation's key is being made); retry in a moment",
}

func errorResponses() openapi3.ResponseBodies {
	out := openapi3.ResponseBodies{}
	for code, name := range errorNames {
		if code == http.StatusTooManyRequests {
			out[name] = &openapi3.ResponseRef{Value: tooManyRequests()}
			continue
		}
		out[name] = &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(errorDescriptions[code]).
			WithContent(openapi3.Content{contentJSON: openapi3.NewMediaType().WithSchemaRef(componentRef(Error{}))})}
	}
	return out
}

// tooManyRequests is kube-apiserver's answer when API Priority and Fairness
// rejects a request (k8s.io/apiserver/pkg/server/filters, tooManyRequests):
// a Retry-After in seconds and a line of plain text. orgplane itself never
// answers 429; its paths are documented with it because every /v1/... route
// is reached through kube-apiserver.
func tooManyRequests() *openapi3.Response {
	retryAfter := &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "Seconds to wait before retrying (1 to 32 from kube-apiserver 1.37's API Priority and Fairness)",
		Schema:      openapi3.NewSchemaRef("", openapi3.NewInt32Schema().WithMin(1).WithMax(math.MaxInt32))}}}
	r := openapi3.NewResponse().WithDescription(errorDescriptions[http.StatusTooManyRequests]).
		WithContent(openapi3.Content{contentText: openapi3.NewMediaType().WithSchema(
			openapi3.NewStringSchema().WithMaxLength(maxTooManyRequestsLength))})
	r.Headers = openapi3.Headers{"Retry-After": retryAfter}
	return r
}

const (
	contentText = "text/plain"
	// maxTooManyRequestsLength bounds kube-apiserver's one-line 429 message
	// ("Too many requests, please try again later.").
	maxTooManyRequestsLength = 1024
)

// errorCodes are the error answers of a route: every route may answer 401
// and 500, and /v1/... routes, served through kube-apiserver, its 429;
// routes of one organization (or the one in context) 403 and 404; routes
// with a body or query 400; writes also 409 and 422 (admission and the API
// server's validation), and bodies 413 and 415.
func errorCodes(method, path string, c contract) []int {
	codes := []int{http.StatusUnauthorized, http.StatusInternalServerError}
	if strings.HasPrefix(path, "/v1/") {
		codes = append(codes, http.StatusTooManyRequests)
	}
	one := strings.Contains(path, "{id}") || c.Tag == tagContext
	write := method != http.MethodGet
	if one || write {
		codes = append(codes, http.StatusForbidden, http.StatusNotFound)
	}
	if c.JSON != nil || c.Form != nil || len(c.Query) > 0 {
		codes = append(codes, http.StatusBadRequest)
	}
	if write {
		codes = append(codes, http.StatusConflict, http.StatusUnprocessableEntity)
	}
	if c.JSON != nil || c.Form != nil {
		codes = append(codes, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	codes = append(codes, c.Errors...)
	sort.Ints(codes)
	return codes
}

func securitySchemes() openapi3.SecuritySchemes {
	return openapi3.SecuritySchemes{
		"bearerToken": {Value: &openapi3.SecurityScheme{Type: "http", Scheme: "bearer",
			Description: "A Kubernetes bearer token, checked with a TokenReview (direct endpoint). Through kube-apiserver, " +
				"the credentials of your kubeconfig: kube-apiserver authenticates you and forwards your identity as " +
				"front-proxy headers, trusted only with the front proxy's client certificate."}},
		"clientCertificate": {Value: &openapi3.SecurityScheme{Type: "mutualTLS",
			Description: "A client certificate signed by the cluster's client CA (direct endpoint); through kube-apiserver, " +
				"the client certificate of your kubeconfig."}},
	}
}

func openAPIOperation() *openapi3.Operation {
	op := &openapi3.Operation{OperationID: "getOpenAPI", Summary: "This OpenAPI document", Tags: []string{tagDocument},
		Description: "Also printed by `orgplane openapi`.", Security: &openapi3.SecurityRequirements{{}},
		Responses: openapi3.NewResponses()}
	op.Responses.Delete("default")
	op.AddResponse(http.StatusOK, openapi3.NewResponse().WithDescription("The OpenAPI 3.1 document").WithContent(
		openapi3.Content{contentJSON: openapi3.NewMediaType().WithSchema(openapi3.NewObjectSchema())}))
	op.Responses.Set(strconv.Itoa(http.StatusTooManyRequests),
		&openapi3.ResponseRef{Ref: "#/components/responses/" + errorNames[http.StatusTooManyRequests]})
	return op
}

// openAPIJSON is the document, encoded once.
var openAPIJSON = sync.OnceValue(func() []byte {
	b, err := json.Marshal(OpenAPI())
	if err != nil {
		panic(err)
	}
	return b
})

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIJSON())
}

// Routes lists "METHOD path" of every route in the table.
func Routes() []string {
	out := make([]string, 0, len(table))
	for _, rt := range table {
		out = append(out, rt.Method+" "+rt.Path)
	}
	return out
}

// Seed004Routes lists "METHOD path" of seed 004's own paths, served on the
// direct endpoint.
func Seed004Routes() []string {
	out := make([]string, 0, len(seed004Paths))
	for pattern := range seed004Paths {
		out = append(out, pattern)
	}
	sort.Strings(out)
	return out
}
