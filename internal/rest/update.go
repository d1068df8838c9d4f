package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/custody"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/orgs"
)

// LicenseRequest is the body of the license routes.
type LicenseRequest struct {
	LicenseKey        string `json:"licenseKey"`
	CreateLicenseType string `json:"createLicenseType"`
	// LicenseID assigns an existing License (seed 004).
	LicenseID string `json:"license_id"`
}

// putContextLicense sets the license of the caller's organization in context.
func (s *Server) putContextLicense(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.contextOrganization(r.Context(), u)
	if err != nil {
		return err
	}
	return s.putLicense(w, r, u, string(m.Org.UID))
}

// putLicenseByID sets the license of organization {id}.
func (s *Server) putLicenseByID(w http.ResponseWriter, r *http.Request, u user.Info) error {
	return s.putLicense(w, r, u, r.PathValue("id"))
}

func (s *Server) putLicense(w http.ResponseWriter, r *http.Request, u user.Info, id string) error {
	var req LicenseRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.LicenseID != "" {
		return s.assignLicense(w, r, u, id, req.LicenseID)
	}
	if strings.TrimSpace(req.LicenseKey) == "" && req.CreateLicenseType == "" {
		return httpError(http.StatusBadRequest, "Send licenseKey (a signed key), createLicenseType (e.g. trial) or license_id", nil)
	}
	org, err := s.licenseAdminOf(r.Context(), u, id)
	if err != nil {
		return err
	}
	if err := s.applyRequestedLicense(r.Context(), org, req.LicenseKey, req.CreateLicenseType); err != nil {
		return err
	}
	s.orgs.Record(org, u, "Updated the organization's license")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// licenseAdminOf finds organization id and checks, with the rule the License
// webhook applies, that the caller may assign its licenses.
func (s *Server) licenseAdminOf(ctx context.Context, u user.Info, id string) (*v1alpha1.Organization, error) {
	org, err := s.orgs.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return org, custody.MayAssign(ctx, s.admins, u, org)
}

// applyRequestedLicense assigns a signed key to org, replacing the key it
// got through the REST API before, or has the controller issue one of
// type typ. A key that is tampered, untrusted, expired, not yet valid or
// bound to another organization is refused (400), as is a key whose
// license id is active in another organization (409), before anything is
// written; admission refuses limits below current usage (409).
func (s *Server) applyRequestedLicense(ctx context.Context, org *v1alpha1.Organization, key, typ string) error {
	if typ != "" {
		return s.selfIssue(ctx, org, typ)
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return nil
	}
	claims, err := custody.CheckKey(s.opts.Verifier, key, org, time.Now())
	if err != nil {
		return err
	}
	if err := custody.ActiveElsewhere(ctx, s.cache, claims.ID, org.UID, org.Name+"-license"); err != nil {
		return err
	}
	return s.writeLicense(ctx, org, key)
}

// writeLicense creates or updates License <org>-license with key, bound to
// org's uid. A License of that name bound to another organization is never
// overwritten (409); the update is conditional on the version read.
func (s *Server) writeLicense(ctx context.Context, org *v1alpha1.Organization, key string) error {
	lic := &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: org.Name + "-license"},
		Spec: v1alpha1.LicenseSpec{Key: key, Organization: org.Name, OrganizationUID: string(org.UID)}}
	err := s.writer.Create(ctx, lic)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	want := lic.Spec
	if err := s.live.Get(ctx, client.ObjectKeyFromObject(lic), lic); err != nil {
		return err
	}
	if bound := custody.BoundTo(lic); lic.Spec.Organization != "" && bound != org.UID {
		return httpError(http.StatusConflict, fmt.Sprintf("License %s belongs to another organization and is not replaced; ask a platform admin", lic.Name), nil)
	}
	lic.Spec = want
	if err := s.writer.Update(ctx, lic); orgs.IsStaleWrite(err) {
		return httpError(http.StatusConflict, fmt.Sprintf("License %s changed while it was being replaced; send the request again", lic.Name), nil)
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Server) selfIssue(ctx context.Context, org *v1alpha1.Organization, typ string) error {
	if s.opts.Issuer == nil {
		return httpError(http.StatusBadRequest, "This installation issues no licenses itself; send a licenseKey", nil)
	}
	_, err := s.opts.Issuer.Issue(ctx, org.Name, string(org.UID), typ)
	if errors.Is(err, license.ErrNotOffered) {
		return httpError(http.StatusBadRequest, err.Error(), nil)
	}
	if errors.Is(err, license.ErrAlreadyIssued) {
		return httpError(http.StatusConflict, err.Error(), nil)
	}
	return err
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
