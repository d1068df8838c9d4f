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
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/custody"
	"github.com/orgplane/orgplane/internal/license"
)

// LicenseRequest is the body of the license routes.
type LicenseRequest struct {
	LicenseKey        string `json:"licenseKey"`
	CreateLicenseType string `json:"createLicenseType"`
	// LicenseID assigns an existing License (seed 004).
	LicenseID string `json:"license_id"`
}

// adminOf finds the organization by id and checks the caller administers it.
func (s *Server) adminOf(ctx context.Context, u user.Info, id string) (*v1alpha1.Organization, error) {
	org, err := s.organizationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	role, err := s.roleIn(ctx, u, org)
	switch {
	case err != nil:
		return nil, err
	case role == "":
		return nil, httpError(http.StatusNotFound, fmt.Sprintf("Organization %q not found among yours", id), nil)
	case role != v1alpha1.RoleAdmin:
		return nil, httpError(http.StatusForbidden, fmt.Sprintf("Only admins of organization %s may do this; you are a member", org.Name), nil)
	}
	return org, s.writableBy(ctx, u, org)
}

// writableBy refuses every REST write to a suspended organization (403),
// except a platform admin's (who may resume it).
func (s *Server) writableBy(ctx context.Context, u user.Info, org *v1alpha1.Organization) error {
	if !org.Spec.Suspended {
		return nil
	}
	if admin, err := s.admins.Is(ctx, u); err != nil || admin {
		return err
	}
	return httpError(http.StatusForbidden, fmt.Sprintf(
		"Organization %s is suspended: it keeps running but takes no changes until a platform admin resumes it", org.Name), nil)
}

// mayChangeSuspension refuses (403) suspending or resuming by anyone but a
// platform admin; admission refuses it for kubectl too.
func (s *Server) mayChangeSuspension(ctx context.Context, u user.Info, org *v1alpha1.Organization) error {
	if admin, err := s.admins.Is(ctx, u); err != nil || admin {
		return err
	}
	return httpError(http.StatusForbidden, fmt.Sprintf(
		"Only platform admins may suspend or resume organization %s (\"active\")", org.Name), nil)
}

// putContextLicense sets the license of the caller's organization in context.
func (s *Server) putContextLicense(w http.ResponseWriter, r *http.Request, u user.Info) error {
	m, err := s.contextOrganization(r.Context(), u)
	if err != nil {
		return err
	}
	return s.putLicense(w, r, u, string(m.org.UID))
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
	s.record(org, u, "Updated the organization's license")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// licenseAdminOf finds organization id and checks, with the rule the License
// webhook applies, that the caller may assign its licenses.
func (s *Server) licenseAdminOf(ctx context.Context, u user.Info, id string) (*v1alpha1.Organization, error) {
	org, err := s.adminOf(ctx, u, id)
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
	if err := s.writer.Update(ctx, lic); isStaleWrite(err) {
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

// conflictRetry paces the re-reads of an organization whose write lost a
// race: enough rounds for many concurrent member changes to all land.
var conflictRetry = wait.Backoff{Steps: 15, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 0.5, Cap: time.Second}

// updateMembers applies change to org's member list and writes it,
// conditional on the version read (the list is replaced whole). When the
// controller or another request wrote first, it reads org again and applies
// change again: a caller never sees an optimistic-lock conflict, and a
// refusal by admission (such as the users limit) reaches them as it is.
func (s *Server) updateMembers(ctx context.Context, org *v1alpha1.Organization, change func(*v1alpha1.Organization) error) error {
	reread := false
	err := retry.OnError(conflictRetry, isStaleWrite, func() error {
		if reread {
			if err := s.live.Get(ctx, client.ObjectKeyFromObject(org), org); err != nil {
				return err
			}
		}
		reread = true
		before := org.DeepCopy()
		if err := change(org); err != nil {
			return err
		}
		return s.patchAndWait(ctx, org, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if isStaleWrite(err) {
		return errChangedConcurrently(org.Name)
	}
	return err
}

func errChangedConcurrently(name string) *Error {
	return httpError(http.StatusConflict, fmt.Sprintf("Organization %s kept changing while your request was applied; send it again", name), nil)
}

// isStaleWrite says whether err is an optimistic-lock conflict (the object
// changed since it was read), not a refusal by admission.
func isStaleWrite(err error) bool {
	return apierrors.IsConflict(err) && strings.Contains(err.Error(), "the object has been modified")
}

// deleteOrganization deletes organization {id}; admins only.
func (s *Server) deleteOrganization(w http.ResponseWriter, r *http.Request, u user.Info) error {
	org, err := s.adminOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.record(org, u, "Deleting organization")
	if err := client.IgnoreNotFound(s.writer.Delete(r.Context(), org)); err != nil {
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
	if err := checkDisplayName(body.Name, http.StatusBadRequest); err != nil {
		return err
	}
	org, err := s.adminOf(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.rename(r.Context(), org, body.Name, u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// rename patches the display name; admission claims the new one (409 when
// another organization has it) and the old claim lapses.
func (s *Server) rename(ctx context.Context, org *v1alpha1.Organization, name string, u user.Info) error {
	old, name := org.Spec.DisplayName, strings.TrimSpace(name)
	patch := client.MergeFrom(org.DeepCopy())
	org.Spec.DisplayName = name
	mergeAnnotation(org, AnnotationRequestedBy, u.GetName())
	if err := s.patchAndWait(ctx, org, patch); err != nil {
		return err
	}
	s.record(org, u, fmt.Sprintf("Renamed organization from %q to %q", old, name))
	return nil
}

func mergeAnnotation(obj client.Object, k, v string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[k] = v
	obj.SetAnnotations(a)
}

// patchAndWait patches obj's spec and waits (briefly) until the cache holds
// that generation or a later one, so that the caller's next read shows what
// they wrote.
func (s *Server) patchAndWait(ctx context.Context, obj client.Object, patch client.Patch) error {
	if err := s.writer.Patch(ctx, obj, patch); err != nil {
		return err
	}
	s.waitCached(ctx, obj)
	return nil
}

// waitCached waits (briefly) until the cache holds obj, just written, at its
// generation or a later one, so that the caller's next read shows it.
func (s *Server) waitCached(ctx context.Context, obj client.Object) {
	cached := obj.DeepCopyObject().(client.Object)
	_ = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		err := s.cache.Get(ctx, client.ObjectKeyFromObject(obj), cached)
		return err == nil && cached.GetGeneration() >= obj.GetGeneration(), nil
	})
}
