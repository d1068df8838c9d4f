package rest

import (
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
	"github.com/orgplane/orgplane/internal/orgs"
)

// createNamed creates an organization with display name name and the
// caller as admin, and no account (seeds 000, 001, 004).
func (s *Server) createNamed(r *http.Request, u user.Info, name, description string) (*v1alpha1.Organization, error) {
	if err := orgs.CheckDisplayName("name", name); err != nil {
		return nil, err
	}
	if slug(displayname.Normalize(name), 30) == "" {
		return nil, orgs.InvalidField("name", "Field \"name\" needs at least one letter a-z or digit, to name the organization's object")
	}
	if err := orgs.CheckDescription(description); err != nil {
		return nil, err
	}
	org, err := s.newOrganization(r.Context(), &CreateRequest{OrganizationName: name}, u)
	if err != nil {
		return nil, err
	}
	if description == "" {
		return org, nil
	}
	before := org.DeepCopy()
	org.Spec.Description = description
	return org, s.orgs.PatchAndWait(r.Context(), org, client.MergeFrom(before))
}
