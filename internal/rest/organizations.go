package rest

import (
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/orgs"
	"github.com/orgplane/orgplane/internal/usage"
)

// Seed 004's routes, served at /v1/organizations/{id}/... and, on the
// direct endpoint, at the seed's own /organizations/... paths.

// listOrganizations lists the caller's organizations; active_only=true
// leaves out suspended ones.
func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request, u user.Info) error {
	ms, err := s.orgs.Memberships(r.Context(), u)
	if err != nil {
		return err
	}
	activeOnly := r.URL.Query().Get("active_only") == "true"
	out := []Resource{}
	for _, m := range ms {
		if !activeOnly || !m.Org.Spec.Suspended {
			out = append(out, s.renderOrganization(r.Context(), m.Org, m.Role))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": out})
	return nil
}

// createOrganizationNamed creates an organization {name, description} with
// the caller as admin.
func (s *Server) createOrganizationNamed(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body struct {
		Name        string  `json:"name"`
		Description *string `json:"description"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	org, err := s.orgs.CreateNamed(r.Context(), u, body.Name, deref(body.Description))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderOrganization(r.Context(), org, v1alpha1.RoleAdmin))
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// updateOrganization changes name, description and active; admins only.
func (s *Server) updateOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Active      *bool   `json:"active"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	org, err := s.orgs.Update(r.Context(), u, r.PathValue("id"), orgs.Update{Name: body.Name, Description: body.Description, Active: body.Active})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.renderOrganization(r.Context(), org, v1alpha1.RoleAdmin))
	return nil
}

// deleteOrganization deletes organization {id}; admins only.
func (s *Server) deleteOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if err := s.orgs.Delete(r.Context(), u, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// patchMetadata renames organization {id}'s display name; admins only.
func (s *Server) patchMetadata(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	if _, err := s.orgs.Update(r.Context(), u, r.PathValue("id"), orgs.Update{Name: &body.Name}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// Member is a member as seed 004 lists it.
type Member struct {
	ID    string        `json:"id"`
	Kind  string        `json:"kind"`
	Name  string        `json:"name"`
	Email string        `json:"email,omitempty"`
	Role  v1alpha1.Role `json:"role"`
}

// listMembers lists an organization's members; any member may.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, _, err := s.orgs.MemberOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := []Member{}
	for _, m := range org.Spec.Members {
		out = append(out, s.renderMember(r.Context(), m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out})
	return nil
}

// addMember adds a user by email as a member; admins only.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request, u user.Info) error {
	var body struct {
		Email string        `json:"email"`
		Role  v1alpha1.Role `json:"role"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	role, err := s.orgs.AddMember(r.Context(), u, r.PathValue("id"), body.Email, body.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Member{ID: body.Email, Kind: v1alpha1.SubjectUser, Name: body.Email, Email: body.Email, Role: role})
	return nil
}

// removeMember removes a member by User id (uid), username or member id;
// admins only.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if err := s.orgs.RemoveMember(r.Context(), u, r.PathValue("id"), r.PathValue("user_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getLicense shows the organization's plan; no license means free.
func (s *Server) getLicense(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, _, err := s.orgs.MemberOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := s.opts.Plan.Of(org)
	view := licenseView{Plan: p.Type, Phase: p.Phase, Limits: &p.Limits, Entitlements: p.Entitlements, Usage: org.Status.Usage,
		ExpiresAt: p.ExpiresAt, GraceEndsAt: p.GraceEndsAt, RestrictedEndsAt: p.RestrictedEndsAt}
	if p.License != "" {
		l := &v1alpha1.License{}
		if err := s.cache.Get(r.Context(), types.NamespacedName{Name: p.License}, l); err == nil {
			view.License = &licenseDetails{ID: l.Name, LicenseID: l.Status.LicenseID, Type: l.Status.Type, Licensee: l.Status.Licensee,
				Phase: l.Status.Phase, Limits: l.Status.Limits, ExpiresAt: l.Status.ExpiresAt, GraceEndsAt: l.Status.GraceEndsAt}
		}
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// assignLicense assigns License licenseID (its name or license id) to
// organization id, unassigning the others (seed 004).
func (s *Server) assignLicense(w http.ResponseWriter, r *http.Request, u user.Info, id, licenseID string) error {
	lic, org, err := s.orgs.AssignLicense(r.Context(), u, id, licenseID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"license": lic.Name, "organization": org.Name})
	return nil
}

// unassignLicense downgrades the organization to the free plan.
func (s *Server) unassignLicense(w http.ResponseWriter, r *http.Request, u user.Info) error {
	if err := s.orgs.UnassignLicenses(r.Context(), u, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDeployments lists the Deployments in the organization's workspaces.
func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, _, err := s.orgs.MemberOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	workspaces, err := usage.Workspaces(r.Context(), s.cache, org.Name)
	if err != nil {
		return err
	}
	out := []map[string]string{}
	for _, ws := range workspaces {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(deploymentList)
		if err := s.cache.List(r.Context(), list, client.InNamespace(ws.Name)); err != nil {
			return err
		}
		for _, d := range list.Items {
			out = append(out, map[string]string{"account": ws.Labels[v1alpha1.LabelAccount], "namespace": d.Namespace, "name": d.Name, "id": string(d.UID)})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deployments": out, "limit": &s.opts.Plan.Of(org).Limits})
	return nil
}

var deploymentList = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DeploymentList"}
