package rest

import (
	"net/http"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
)

// IdentityOrganization is an organization in seed 001's shape.
type IdentityOrganization struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedBy   CreatedBy `json:"createdBy"`
	CreatedAt   string    `json:"createdAt"`
}

// CreatedBy names who created an organization.
type CreatedBy struct {
	UserID string `json:"userId"`
	Type   string `json:"type"`
}

func identity(o *v1alpha1.Organization) IdentityOrganization {
	creator := o.Annotations[v1alpha1.AnnotationCreatedBy]
	if creator == "" {
		if admins := o.MembersWithRole(v1alpha1.RoleAdmin); len(admins) > 0 {
			creator = admins[0].Name
		}
	}
	return IdentityOrganization{
		ID: string(o.UID), Name: o.Spec.DisplayName, Description: o.Spec.Description,
		CreatedBy: CreatedBy{UserID: creator, Type: "user"},
		CreatedAt: o.CreationTimestamp.UTC().Format(time.RFC3339),
	}
}

// listIdentityOrganizations pages through the caller's organizations.
func (s *Server) listIdentityOrganizations(w http.ResponseWriter, r *http.Request, u user.Info) error {
	q := r.URL.Query()
	page, err := orgs.ParsePage(q.Get("offset"), q.Get("limit"))
	if err != nil {
		return err
	}
	s.autoJoin(r, u)
	ms, err := s.orgs.Memberships(r.Context(), u)
	if err != nil {
		return err
	}
	start, end := page.Bounds(len(ms))
	out := make([]IdentityOrganization, 0, end-start)
	for _, m := range ms[start:end] {
		out = append(out, identity(m.Org))
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": out, "totalResults": len(ms), "offset": page.Offset, "limit": page.Limit})
	return nil
}

// createIdentityOrganization creates an organization named name with the
// caller as admin.
func (s *Server) createIdentityOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	org, err := s.orgs.CreateNamed(r.Context(), u, body.Name, body.Description)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, identity(org))
	return nil
}

// getIdentityOrganization returns one of the caller's organizations with their role.
func (s *Server) getIdentityOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, role, err := s.orgs.MemberOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organization": identity(org), "organizationMembership": map[string]any{"role": role}})
	return nil
}

// editIdentityOrganization renames one of the caller's organizations.
func (s *Server) editIdentityOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	org, err := s.orgs.Update(r.Context(), u, r.PathValue("id"), orgs.Update{Name: &body.Name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, identity(org))
	return nil
}
