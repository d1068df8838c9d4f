package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/endpoints/request"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/controllers"
)

// maxBody bounds request bodies.
const maxBody = 64 << 10

// handler serves one route for an authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, u user.Info) error

// routes serves every route at /v1/... and at /apis/api.orgplane.io/v1/...
func (s *Server) routes() http.Handler {
	v1 := http.NewServeMux()
	for pattern, h := range map[string]handler{
		"GET /v1/organizations":                 s.listOrganizations,
		"GET /v1/organizations/accounts":        s.contextAccounts,
		"GET /v1/organizations/projects":        s.contextAccounts,
		"GET /v1/organizations/accounts/all":    s.allAccounts,
		"GET /v1/organizations/projects/all":    s.allAccounts,
		"GET /v1/organizations/users":           s.contextUsers,
		"PUT /v1/organizations/verify":          s.verifyDisplayName,
		"GET /v1/organizations/{name}":          s.getOrganization,
		"POST /v1/organizations":                s.createOrganization,
		"DELETE /v1/organizations/{id}":         s.deleteOrganization,
		"PATCH /v1/organizations/{id}/metadata": s.patchMetadata,
		"PUT /v1/organization-license":          s.putContextLicense,
		"PUT /v1/organizations/{id}/license":    s.putLicenseByID,
	} {
		v1.Handle(pattern, authenticated(h))
	}
	top := http.NewServeMux()
	top.Handle("/v1/", v1)
	top.Handle("/apis/"+Group+"/"+Version+"/", http.StripPrefix("/apis/"+Group, v1))
	top.HandleFunc("GET /apis/"+Group+"/"+Version, discovery)
	return top
}

// authenticated refuses anonymous callers with 401 and writes errors as JSON.
func authenticated(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := request.UserFrom(r.Context())
		if !ok || u.GetName() == user.Anonymous {
			writeError(w, errUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := h(w, r, u); err != nil {
			writeError(w, err)
		}
	})
}

// discovery answers the aggregator's availability check and kubectl's
// discovery with the group's resources.
func discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: Group + "/" + Version,
		APIResources: []metav1.APIResource{{
			Name: "organizations", Kind: "Organization", Namespaced: false,
			Verbs: metav1.Verbs{"get", "list", "create", "update", "patch", "delete"},
		}},
	})
}

// decode reads a JSON body, refusing unknown fields.
func decode(r *http.Request, into any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return httpError(http.StatusBadRequest, fmt.Sprintf("Invalid JSON body: %v", err), nil)
	}
	return nil
}

func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request, u user.Info) error {
	ms, err := s.memberships(r.Context(), u)
	if err != nil {
		return err
	}
	out := make([]Resource, 0, len(ms))
	for _, m := range ms {
		out = append(out, renderOrganization(m.org))
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": out})
	return nil
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org := &v1alpha1.Organization{}
	err := s.cache.Get(r.Context(), types.NamespacedName{Name: r.PathValue("name")}, org)
	if client.IgnoreNotFound(err) != nil {
		return err
	}
	role := v1alpha1.Role("")
	if err == nil {
		if role, err = s.roleIn(r.Context(), u, org); err != nil {
			return err
		}
	}
	if role == "" {
		return httpError(http.StatusNotFound, fmt.Sprintf("Organization %q not found among yours", r.PathValue("name")), nil)
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": renderOrganization(org)})
	return nil
}

// contextAccounts lists the accounts of the caller's organization in context.
func (s *Server) contextAccounts(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.contextOrganization(r.Context(), u)
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
	ms, err := s.memberships(r.Context(), u)
	if err != nil {
		return err
	}
	out := make([]OrganizationAccounts, 0, len(ms))
	for _, m := range ms {
		accounts, err := s.accounts(r.Context(), m)
		if err != nil {
			return err
		}
		out = append(out, OrganizationAccounts{Accounts: accounts, Organization: renderOrganization(m.org),
			SSOEnabled: m.org.Spec.Auth0 != nil && m.org.Spec.Auth0.ID != ""})
	}
	active, err := s.activeAccountID(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"activeAccountId": active, "organizationAccounts": out})
	return nil
}

// accounts renders an organization's accounts, with API keys for admins.
func (s *Server) accounts(ctx context.Context, m membership) ([]Resource, error) {
	list := &v1alpha1.AccountList{}
	if err := s.cache.List(ctx, list, client.InNamespace(m.org.NamespaceName())); err != nil {
		return nil, err
	}
	out := make([]Resource, 0, len(list.Items))
	for i := range list.Items {
		a := &list.Items[i]
		var keys *corev1.Secret
		if m.role == v1alpha1.RoleAdmin {
			keys = &corev1.Secret{}
			if err := s.cache.Get(ctx, types.NamespacedName{Namespace: a.Namespace, Name: a.APIKeySecretName()}, keys); err != nil {
				keys = nil
			}
		}
		out = append(out, renderAccount(a, keys))
	}
	return out, nil
}

// contextUsers lists the Users of the organization in context.
func (s *Server) contextUsers(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.contextOrganization(r.Context(), u)
	if err != nil {
		return err
	}
	out := []Resource{}
	for _, member := range m.org.Spec.Members {
		if member.Kind != v1alpha1.SubjectUser {
			continue
		}
		if found, err := s.userNamed(r.Context(), member.Name); err != nil {
			return err
		} else if found != nil {
			out = append(out, renderUser(found))
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
	orgs := &v1alpha1.OrganizationList{}
	if err := s.cache.List(r.Context(), orgs, client.MatchingFields{controllers.IndexDisplayName: strings.ToLower(body.Name)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": len(orgs.Items) == 0})
	return nil
}
