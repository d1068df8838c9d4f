package rest

import (
	"context"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
)

// maxBody bounds request bodies.
const maxBody = 64 << 10

// handler serves one route for an authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, u user.Info) error

// route is one method and path of the API, with the seed it comes from.
type route struct {
	Method, Path, Seed, Summary string
	fn                          func(*Server, http.ResponseWriter, *http.Request, user.Info) error
}

// table lists every route served at /v1/... and at /apis/api.orgplane.io/v1/...
// The OpenAPI document and docs/api.md are made from it.
var table = []route{
	{"PUT", "/v1/organization-license", "002/003", "Set the license of the organization in context", (*Server).putContextLicense},
	{"GET", "/v1/organizations", "002, 004", "The caller's organizations (active_only=true leaves out suspended ones)", (*Server).listOrganizations},
	{"POST", "/v1/organizations", "002/003, 000", "Create an organization, its first account and bindings (JSON); or an organization alone (form: name)", (*Server).createOrganizationAny},
	{"GET", "/v1/organizations/accounts", "002", "Accounts of the organization in context", (*Server).contextAccounts},
	{"GET", "/v1/organizations/accounts/all", "002", "Every organization of the caller with its accounts", (*Server).allAccounts},
	{"GET", "/v1/organizations/projects", "002", "Same as /accounts", (*Server).contextAccounts},
	{"GET", "/v1/organizations/projects/all", "002", "Same as /accounts/all", (*Server).allAccounts},
	{"GET", "/v1/organizations/users", "002", "Users of the organization in context", (*Server).contextUsers},
	{"PUT", "/v1/organizations/verify", "002", "Whether a display name is free", (*Server).verifyDisplayName},
	{"GET", "/v1/organizations/{id}", "002, 000, 004", "One of the caller's organizations, by name or id", (*Server).getOrganization},
	{"PUT", "/v1/organizations/{id}", "004", "Update name, description, active", (*Server).updateOrganization},
	{"PATCH", "/v1/organizations/{id}", "000", "Update name (form: name, slug)", (*Server).updateOrganizationForm},
	{"DELETE", "/v1/organizations/{id}", "002, 000, 004", "Delete an organization (admins)", (*Server).deleteOrganization},
	{"PATCH", "/v1/organizations/{id}/metadata", "002", "Change the display name (admins)", (*Server).patchMetadata},
	{"GET", "/v1/organizations/{id}/license", "004", "Plan, limits, usage and license; no license means free", (*Server).getLicense},
	{"PUT", "/v1/organizations/{id}/license", "002/003, 004", "Set the license: licenseKey, createLicenseType, or license_id", (*Server).putLicenseByID},
	{"DELETE", "/v1/organizations/{id}/license", "004", "Unassign licenses: free plan", (*Server).unassignLicense},
	{"GET", "/v1/organizations/{id}/members", "004", "Members with their roles", (*Server).listMembers},
	{"POST", "/v1/organizations/{id}/members", "004", "Add a member by email (admins)", (*Server).addMember},
	{"DELETE", "/v1/organizations/{id}/members/{user_id}", "004", "Remove a member (admins)", (*Server).removeMember},
	{"PUT", "/v1/organizations/{id}/members/{user_id}", "orgplane", "Change a member's role: admin, member or viewer (admins; the last admin stays)", (*Server).setMemberRole},
	{"GET", "/v1/organizations/{id}/accounts", "orgplane", "Accounts of the organization, API keys for admins only (any member)", (*Server).listOrganizationAccounts},
	{"POST", "/v1/organizations/{id}/accounts", "orgplane", "Create an account, within the plan's accounts limit; answers once it is ready, with its API keys (admins)", (*Server).createAccount},
	{"PATCH", "/v1/organizations/{id}/accounts/{account_id}", "orgplane", "Rename an account (admins)", (*Server).renameAccount},
	{"DELETE", "/v1/organizations/{id}/accounts/{account_id}", "orgplane", "Delete an account and its workspace (admins)", (*Server).deleteAccount},
	{"POST", "/v1/organizations/{id}/accounts/{account_id}/rotate-key", "orgplane", "Rotate an account's API key: the old key becomes the alternate; answers with the new keys (admins)", (*Server).rotateKey},
	{"GET", "/v1/organizations/{id}/deployments", "004", "Deployments in the organization's workspaces", (*Server).listDeployments},
	{"GET", "/v1/organizations/{id}/invitations", "orgplane", "Invitations of the organization (admins and members)", (*Server).listInvitations},
	{"POST", "/v1/organizations/{id}/invitations", "orgplane", "Invite someone by e-mail (admins and members; role at most the inviter's own)", (*Server).invite},
	{"POST", "/v1/organizations/{id}/invitations/{invitation_id}/resend", "orgplane", "Send an invitation again: its expiry starts over (admins)", (*Server).resendInvitation},
	{"DELETE", "/v1/organizations/{id}/invitations/{invitation_id}", "orgplane", "Revoke an invitation: its seat is freed, its history kept (admins)", (*Server).revokeInvitation},
	{"GET", "/v1/identity/invitations", "orgplane", "Invitations waiting for the caller's answer (to their own address)", (*Server).myInvitations},
	{"POST", "/v1/identity/invitations/{invitation_id}/accept", "orgplane", "Accept an invitation to the caller's own address: they become a member", (*Server).acceptInvitation},
	{"POST", "/v1/identity/invitations/{invitation_id}/decline", "orgplane", "Decline an invitation to the caller's own address", (*Server).declineInvitation},
	{"GET", "/v1/organizations/{id}/domains", "orgplane", "E-mail domains the organization claims, with the TXT record that proves each (admins)", (*Server).listDomains},
	{"POST", "/v1/organizations/{id}/domains", "orgplane", "Claim an e-mail domain (admins; consumer domains refused)", (*Server).addDomain},
	{"POST", "/v1/organizations/{id}/domains/{domain_id}/verify", "orgplane", "Look a domain's TXT record up again now (admins)", (*Server).verifyDomain},
	{"PUT", "/v1/organizations/{id}/domains/{domain_id}", "orgplane", "Set a domain's enrolment mode and default role (admins)", (*Server).setEnrollment},
	{"GET", "/v1/organizations/{id}/join-requests", "orgplane", "Join requests through the organization's domains (admins)", (*Server).listJoinRequests},
	{"POST", "/v1/organizations/{id}/join-requests/{request_id}/approve", "orgplane", "Approve a join request: the person becomes a member, within the seats (admins)", (*Server).approveJoinRequest},
	{"POST", "/v1/organizations/{id}/join-requests/{request_id}/deny", "orgplane", "Deny a join request (admins)", (*Server).denyJoinRequest},
	{"POST", "/v1/identity/organizations/{id}/join", "orgplane", "Ask to join an organization that holds the caller's e-mail domain", (*Server).askToJoin},
	{"GET", "/v1/usage-report", "orgplane", "Every organization's plan, usage and peak usage this month, signed by the installation's key (platform admins)", (*Server).usageReport},
	{"GET", "/v1/identity/organizations", "001", "The caller's organizations, paged (offset, limit ≤ 100)", (*Server).listIdentityOrganizations},
	{"POST", "/v1/identity/organizations", "001", "Create an organization", (*Server).createIdentityOrganization},
	{"GET", "/v1/identity/organizations/{id}", "001", "One organization with the caller's role", (*Server).getIdentityOrganization},
	{"POST", "/v1/identity/organizations/{id}", "001", "Rename an organization (admins)", (*Server).editIdentityOrganization},
}

// seed004Paths are seed 004's own paths, served on the direct endpoint.
var seed004Paths = map[string]string{
	"GET /organizations":                           "GET /v1/organizations",
	"POST /organizations":                          "",
	"GET /organizations/{id}":                      "GET /v1/organizations/{id}",
	"PUT /organizations/{id}":                      "PUT /v1/organizations/{id}",
	"DELETE /organizations/{id}":                   "DELETE /v1/organizations/{id}",
	"GET /organizations/{id}/members":              "GET /v1/organizations/{id}/members",
	"POST /organizations/{id}/members":             "POST /v1/organizations/{id}/members",
	"DELETE /organizations/{id}/members/{user_id}": "DELETE /v1/organizations/{id}/members/{user_id}",
	"GET /organizations/{id}/license":              "GET /v1/organizations/{id}/license",
	"PUT /organizations/{id}/license":              "PUT /v1/organizations/{id}/license",
	"DELETE /organizations/{id}/license":           "DELETE /v1/organizations/{id}/license",
	"GET /organizations/{id}/deployments":          "GET /v1/organizations/{id}/deployments",
}

// bind makes a route's handler for s.
func (rt route) bind(s *Server) handler {
	return func(w http.ResponseWriter, r *http.Request, u user.Info) error { return rt.fn(s, w, r, u) }
}

// routes serves every route at /v1/... and at /apis/api.orgplane.io/v1/...,
// seed 004's own paths, discovery and the OpenAPI document.
func (s *Server) routes() http.Handler {
	v1 := http.NewServeMux()
	byPattern := map[string]handler{}
	for _, rt := range table {
		h := rt.bind(s)
		byPattern[rt.Method+" "+rt.Path] = h
		v1.Handle(rt.Method+" "+rt.Path, authenticated(h, mediaTypesOf(rt.Method+" "+rt.Path)))
	}
	v1.HandleFunc("GET /v1/openapi.json", serveOpenAPI)
	top := http.NewServeMux()
	top.Handle("/v1/", v1)
	top.Handle("/apis/"+Group+"/"+Version+"/", http.StripPrefix("/apis/"+Group, v1))
	top.HandleFunc("GET /apis/"+Group+"/"+Version, discovery)
	for pattern, target := range seed004Paths {
		h := byPattern[target]
		if target == "" {
			h = s.createOrganizationNamed
		}
		top.Handle(pattern, authenticated(h, mediaTypesOf(target)))
	}
	return top
}

// authenticated refuses anonymous callers with 401 and bodies of a media
// type the route does not take with 415, bounds the body, and writes
// errors as JSON unless the handler has already begun its answer.
func authenticated(h handler, mediaTypes []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := request.UserFrom(r.Context())
		if !ok || u.GetName() == user.Anonymous {
			writeError(w, r, errUnauthorized)
			return
		}
		if err := checkMediaType(r, mediaTypes); err != nil {
			writeError(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		rw := &responseWriter{ResponseWriter: w}
		err := h(rw, r, u)
		switch {
		case err == nil:
		case rw.wrote:
			ctrl.Log.WithName("rest").Error(err, "Request failed after its answer began", "method", r.Method, "path", r.URL.Path)
		default:
			writeError(w, r, err)
		}
	})
}

// discovery answers the aggregator's availability check. It lists no
// resources: the routes are REST, not Kubernetes resources, and listing
// "organizations" here would make `kubectl get organizations` resolve to
// this group instead of the orgplane.io CRD.
func discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: Group + "/" + Version,
		APIResources: []metav1.APIResource{},
	})
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, role, err := s.orgs.MemberOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": s.renderOrganization(r.Context(), org, role)})
	return nil
}

// contextAccounts lists the accounts of the caller's organization in context.
func (s *Server) contextAccounts(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.orgs.InContext(r.Context(), u)
	if err != nil {
		return err
	}
	accounts, err := s.accounts(r.Context(), m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": accounts})
	return nil
}

// OrganizationAccounts is one organization with its accounts.
type OrganizationAccounts struct {
	Accounts     []Resource `json:"accounts"`
	Organization Resource   `json:"organization"`
	SSOEnabled   bool       `json:"ssoEnabled"`
}

// allAccounts lists every organization of the caller with its accounts.
func (s *Server) allAccounts(w http.ResponseWriter, r *http.Request, u user.Info) error {
	ms, err := s.orgs.Memberships(r.Context(), u)
	if err != nil {
		return err
	}
	s.orgs.AsPlatformAdmin(r.Context(), u, ms)
	out := make([]OrganizationAccounts, 0, len(ms))
	for _, m := range ms {
		accounts, err := s.accounts(r.Context(), m)
		if err != nil {
			return err
		}
		out = append(out, OrganizationAccounts{Accounts: accounts, Organization: s.renderOrganization(r.Context(), m.Org, m.Role),
			SSOEnabled: m.Org.Spec.Auth0 != nil && m.Org.Spec.Auth0.ID != ""})
	}
	active, err := s.orgs.ActiveAccountID(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"activeAccountId": active, "organizationAccounts": out})
	return nil
}

// accounts renders an organization's accounts, with API keys for admins.
func (s *Server) accounts(ctx context.Context, m orgs.Membership) ([]Resource, error) {
	list := &v1alpha1.AccountList{}
	// Rendered, never changed: the cache's own objects, not copies.
	if err := s.cache.List(ctx, list, client.InNamespace(m.Org.NamespaceName()), client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(list.Items))
	for i := range list.Items {
		a := &list.Items[i]
		out = append(out, renderAccount(a, s.apiKeys(ctx, a, m.Role), s.parameterValues(ctx, a.Namespace, m.Role)))
	}
	return out, nil
}

// renderOrganization renders org with the parameter values a caller with
// role is shown.
func (s *Server) renderOrganization(ctx context.Context, org *v1alpha1.Organization, role v1alpha1.Role) Resource {
	return renderOrganization(org, s.parameterValues(ctx, org.NamespaceName(), role))
}

// parameterValues shows a caller with role the values of parameters kept in
// namespace (the organization's): a sensitive value, and any value kept in
// a Secret (secretKeyRef, read from the API server), to admins only; other
// values to every member.
func (s *Server) parameterValues(ctx context.Context, namespace string, role v1alpha1.Role) valueOf {
	admin := role == v1alpha1.RoleAdmin
	return func(p v1alpha1.Parameter) *string {
		switch {
		case !admin && (p.Sensitive || p.SecretKeyRef != nil):
			return nil
		case p.SecretKeyRef == nil:
			return p.Value
		}
		secret := &corev1.Secret{}
		if err := s.live.Get(ctx, types.NamespacedName{Namespace: namespace, Name: p.SecretKeyRef.Name}, secret); err != nil {
			return nil
		}
		v, ok := secret.Data[p.SecretKeyRef.Key]
		if !ok {
			return nil
		}
		value := string(v)
		return &value
	}
}

// apiKeys is account a's API-key Secret from the cache when role is admin,
// else (or while the Secret is not written yet) nil.
func (s *Server) apiKeys(ctx context.Context, a *v1alpha1.Account, role v1alpha1.Role) *corev1.Secret {
	if role != v1alpha1.RoleAdmin {
		return nil
	}
	keys := &corev1.Secret{}
	if err := s.cache.Get(ctx, types.NamespacedName{Namespace: a.Namespace, Name: a.APIKeySecretName()}, keys); err != nil {
		return nil
	}
	return keys
}

// contextUsers lists the Users of the organization in context.
func (s *Server) contextUsers(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.orgs.InContext(r.Context(), u)
	if err != nil {
		return err
	}
	out := []Resource{}
	for _, member := range m.Org.Spec.Members {
		if member.Kind != v1alpha1.SubjectUser {
			continue
		}
		if found, err := s.orgs.UserNamed(r.Context(), member.Name); err != nil {
			return err
		} else if found != nil {
			out = append(out, renderUser(found, m.Org.Name, u.GetName()))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
	return nil
}

// verifyDisplayName answers whether a display name is free (valid) to use;
// names are compared ignoring case.
func (s *Server) verifyDisplayName(w http.ResponseWriter, r *http.Request, _ user.Info) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Name) == "" {
		return httpError(http.StatusBadRequest, "Field \"name\" is required: the display name to check", nil)
	}
	taken, err := s.displayNameTaken(r.Context(), body.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": !taken})
	return nil
}
