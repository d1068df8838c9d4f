package rest

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
)

// checkDisplayName refuses, with code, a display name that breaks the rule
// admission enforces for every writer (surrounding white space aside: the
// REST API trims it).
func checkDisplayName(name string, code int) error {
	if errs := displayname.Validate(strings.TrimSpace(name)); len(errs) > 0 {
		return httpError(code, fmt.Sprintf("Field \"name\" is not a valid display name: it %s", strings.Join(errs, "; it ")), map[string]any{"errors": errs})
	}
	return nil
}

// createNamed creates an organization with display name name and the
// caller as admin, and no account (seeds 000, 001, 004).
func (s *Server) createNamed(r *http.Request, u user.Info, name, description string, badRequest int) (*v1alpha1.Organization, error) {
	if err := checkDisplayName(name, badRequest); err != nil {
		return nil, err
	}
	if slug(displayname.Normalize(name), 30) == "" {
		return nil, httpError(badRequest, "Field \"name\" needs at least one letter a-z or digit, to name the organization's object", nil)
	}
	if len(description) > 1024 {
		return nil, httpError(badRequest, "Field \"description\" is longer than 1024 characters", nil)
	}
	org, err := s.newOrganization(r.Context(), &CreateRequest{OrganizationName: name}, u)
	if err != nil {
		return nil, err
	}
	if description == "" {
		return org, nil
	}
	return org, s.setDescription(r, org, description)
}

func (s *Server) setDescription(r *http.Request, org *v1alpha1.Organization, description string) error {
	before := org.DeepCopy()
	org.Spec.Description = description
	return s.patchAndWait(r.Context(), org, client.MergeFrom(before))
}

// memberOf finds organization id among the caller's, with their role.
func (s *Server) memberOf(r *http.Request, u user.Info, id string) (*v1alpha1.Organization, v1alpha1.Role, error) {
	org, err := s.organizationByID(r.Context(), id)
	if err != nil {
		return nil, "", err
	}
	role, err := s.roleIn(r.Context(), u, org)
	if err != nil {
		return nil, "", err
	}
	if role == "" {
		return nil, "", httpError(http.StatusNotFound, fmt.Sprintf("Organization %q not found among yours", id), nil)
	}
	return org, role, nil
}
