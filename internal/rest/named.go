package rest

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// checkDisplayName refuses an empty or over-long display name with code.
func checkDisplayName(name string, code int) error {
	if strings.TrimSpace(name) == "" || len(name) > 100 || slug(name, 30) == "" {
		return httpError(code, "Field \"name\" must be a display name of 1 to 100 characters with at least one letter or digit", nil)
	}
	return nil
}

// createNamed creates an organization with display name name and the
// caller as admin, and no account (seeds 000, 001, 004).
func (s *Server) createNamed(r *http.Request, u user.Info, name, description string, badRequest int) (*v1alpha1.Organization, error) {
	if err := checkDisplayName(name, badRequest); err != nil {
		return nil, err
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
