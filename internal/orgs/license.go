package orgs

import (
	"context"
	"errors"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/custody"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
)

// CheckLicenseType refuses, before anything is written, a license type that
// is neither free (no license) nor a type this installation issues itself.
func (s *Service) CheckLicenseType(typ string) error {
	if typ == "" || typ == v1alpha1.PlanFree {
		return nil
	}
	offered := []string{v1alpha1.PlanFree}
	if s.Issuer != nil {
		if s.Issuer.Issues(typ) {
			return nil
		}
		offered = append(offered, s.Issuer.Offered()...)
	}
	return invalid("licenseType", map[string]any{"offered": offered},
		"licenseType %q is not offered here: send one of %s, or a licenseKey", typ, strings.Join(offered, ", "))
}

// SetLicense gives organization id a signed key (replacing the key it got
// this way before) or a license of type typ that the controller issues. A
// key that is tampered, untrusted, expired, not yet valid or bound to
// another organization is refused (400), as is a key whose license id is
// active in another organization (409), before anything is written;
// admission refuses limits below current usage (409).
func (s *Service) SetLicense(ctx context.Context, u user.Info, id, key, typ string) error {
	if strings.TrimSpace(key) == "" && typ == "" {
		return invalid("licenseKey", nil, "Send licenseKey (a signed key), createLicenseType (e.g. trial) or license_id")
	}
	org, err := s.licenseAdminOf(ctx, u, id)
	if err != nil {
		return err
	}
	if err := s.applyLicense(ctx, u, org, key, typ); err != nil {
		return err
	}
	s.Record(org, u, "Updated the organization's license")
	return nil
}

// licenseAdminOf finds organization id and checks, with the rule the License
// webhook applies, that the caller may assign its licenses.
func (s *Service) licenseAdminOf(ctx context.Context, u user.Info, id string) (*v1alpha1.Organization, error) {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return org, custody.MayAssign(ctx, s.Admins, u, org)
}

func (s *Service) applyLicense(ctx context.Context, u user.Info, org *v1alpha1.Organization, key, typ string) error {
	if typ != "" {
		return s.selfIssue(ctx, u, org, typ)
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return nil
	}
	claims, err := custody.CheckKey(s.Verifier, key, org, time.Now())
	if err != nil {
		return err
	}
	if err := custody.ActiveElsewhere(ctx, s.Cache, custody.NewAssignment(org.Name+"-license"), claims.ID, org.UID); err != nil {
		return err
	}
	return s.writeLicense(ctx, org, key)
}

// writeLicense creates or updates License <org>-license with key, bound to
// org's uid. A License of that name bound to another organization is never
// overwritten (409); the update is conditional on the version read.
func (s *Service) writeLicense(ctx context.Context, org *v1alpha1.Organization, key string) error {
	lic := &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: org.Name + "-license"},
		Spec: v1alpha1.LicenseSpec{Key: key, Organization: org.Name, OrganizationUID: string(org.UID)}}
	err := s.Writer.Create(ctx, lic)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	want := lic.Spec
	if err := s.Live.Get(ctx, client.ObjectKeyFromObject(lic), lic); err != nil {
		return err
	}
	if bound := custody.BoundTo(lic); lic.Spec.Organization != "" && bound != org.UID {
		return refuse(Conflict, "License %s belongs to another organization and is not replaced; ask a platform admin", lic.Name)
	}
	lic.Spec = want
	if err := s.Writer.Update(ctx, lic); IsStaleWrite(err) {
		return refuse(Conflict, "License %s changed while it was being replaced; send the request again", lic.Name)
	} else if err != nil {
		return err
	}
	return nil
}

// selfIssue issues a license of type typ for org, at most once per
// organization (the License's name) and at most Creators.MaxTrials per
// requester, however many organizations they make and delete (the
// requester's ledger keeps the count).
func (s *Service) selfIssue(ctx context.Context, u user.Info, org *v1alpha1.Organization, typ string) error {
	if s.Issuer == nil {
		return invalid("createLicenseType", nil, "This installation issues no licenses itself; send a licenseKey")
	}
	if !s.Issuer.Issues(typ) {
		return invalid("createLicenseType", nil, "%s", s.Issuer.NotOffered(typ).Error())
	}
	if s.Creators != nil {
		if err := s.Creators.TakeTrial(ctx, u.GetName(), org.Name); err != nil {
			return err
		}
	}
	_, err := s.Issuer.Issue(ctx, org.Name, string(org.UID), typ)
	if errors.Is(err, license.ErrNotOffered) {
		return invalid("createLicenseType", nil, "%s", err.Error())
	}
	if errors.Is(err, license.ErrAlreadyIssued) {
		return refuse(Conflict, "%s", err.Error())
	}
	return err
}

// AssignLicense assigns License licenseID (its name or license id) to
// organization id, unassigning the others (seed 004), and returns it. A
// tenant admin may take a License that is bound to their organization, or
// an unassigned one whose key is bound to their organization's uid; any
// other License is not found for them (platform admins may assign any
// unassigned one). The key must be valid now, and the write is conditional
// on the version read.
func (s *Service) AssignLicense(ctx context.Context, u user.Info, id, licenseID string) (*v1alpha1.License, *v1alpha1.Organization, error) {
	org, err := s.licenseAdminOf(ctx, u, id)
	if err != nil {
		return nil, nil, err
	}
	lic, err := s.licenseByID(ctx, licenseID)
	if err == nil {
		err = s.mayTake(ctx, u, org, lic, licenseID)
	}
	if err != nil {
		return nil, nil, err
	}
	claims, err := custody.CheckKey(s.Verifier, lic.Spec.Key, org, time.Now())
	if err != nil {
		return nil, nil, err
	}
	if err := custody.ActiveElsewhere(ctx, s.Cache, custody.NewAssignment(lic.Name), claims.ID, org.UID); err != nil {
		return nil, nil, err
	}
	before := lic.DeepCopy()
	lic.Spec.Organization, lic.Spec.OrganizationUID = org.Name, string(org.UID)
	if err := s.Writer.Patch(ctx, lic, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); IsStaleWrite(err) {
		return nil, nil, refuse(Conflict, "License %s changed while it was being assigned; send the request again", lic.Name)
	} else if err != nil {
		return nil, nil, err
	}
	if err := s.unassign(ctx, org.Name, lic.Name); err != nil {
		return nil, nil, err
	}
	s.Record(org, u, "Assigned license "+lic.Name)
	return lic, org, nil
}

func licenseNotFound(id string) *Error {
	return refuse(NotFound, "License %q not found among the licenses you may assign", id)
}

// mayTake answers NotFound, as for a License that does not exist, unless u
// may assign lic to org.
func (s *Service) mayTake(ctx context.Context, u user.Info, org *v1alpha1.Organization, lic *v1alpha1.License, licenseID string) error {
	switch bound := custody.BoundTo(lic); {
	case bound == org.UID && bound != "":
		return nil
	case lic.Spec.Organization != "":
		return licenseNotFound(licenseID)
	}
	claims, _, _ := s.Verifier.Verify(lic.Spec.Key, time.Now())
	if claims != nil && claims.Organization == string(org.UID) {
		return nil
	}
	platform, err := s.Admins.Is(ctx, u)
	if err != nil || platform {
		return err
	}
	return licenseNotFound(licenseID)
}

func (s *Service) licenseByID(ctx context.Context, id string) (*v1alpha1.License, error) {
	lic := &v1alpha1.License{}
	if err := s.Cache.Get(ctx, types.NamespacedName{Name: id}, lic); err == nil {
		return lic, nil
	}
	list := &v1alpha1.LicenseList{}
	if err := s.Cache.List(ctx, list, client.MatchingFields{index.LicenseID: id}); err != nil {
		return nil, err
	}
	if len(list.Items) > 0 {
		return &list.Items[0], nil
	}
	return nil, licenseNotFound(id)
}

// UnassignLicenses downgrades organization id, which the caller
// administers, to the free plan.
func (s *Service) UnassignLicenses(ctx context.Context, u user.Info, id string) error {
	org, err := s.AdminOf(ctx, u, id)
	if err != nil {
		return err
	}
	if err := s.unassign(ctx, org.Name, ""); err != nil {
		return err
	}
	s.Record(org, u, "Unassigned licenses: free plan")
	return nil
}

// unassign unassigns org's licenses except keep.
func (s *Service) unassign(ctx context.Context, org, keep string) error {
	list := &v1alpha1.LicenseList{}
	if err := s.Cache.List(ctx, list, client.MatchingFields{index.LicenseOrganization: org}); err != nil {
		return err
	}
	for i := range list.Items {
		l := &list.Items[i]
		if l.Name == keep {
			continue
		}
		before := l.DeepCopy()
		l.Spec.Organization, l.Spec.OrganizationUID = "", ""
		if err := client.IgnoreNotFound(s.Writer.Patch(ctx, l, client.MergeFrom(before))); err != nil {
			return err
		}
	}
	return nil
}
