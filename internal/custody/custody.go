// Package custody holds the license custody rule, used by the License
// admission webhook and by the REST API alike: who may assign a license
// to an organization, which keys an organization may take, and that one
// license id is active in at most one organization.
package custody

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/user"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
)

var licenses = schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "licenses"}

// PlatformAdmins answers whether a user is a platform admin.
type PlatformAdmins interface {
	Is(ctx context.Context, u user.Info) (bool, error)
}

// IsAdmin says whether u is an admin member of org, as a user, a service
// account or through one of their groups.
func IsAdmin(org *v1alpha1.Organization, u user.Info) bool {
	return index.RoleOf(org, index.CallerKeys(u.GetName(), u.GetGroups())) == v1alpha1.RoleAdmin
}

// MayAssign returns nil when u may assign licenses to org: an admin of org
// or a platform admin; otherwise a Forbidden error.
func MayAssign(ctx context.Context, admins PlatformAdmins, u user.Info, org *v1alpha1.Organization) error {
	if IsAdmin(org, u) {
		return nil
	}
	platform, err := admins.Is(ctx, u)
	if err != nil {
		return err
	}
	if platform {
		return nil
	}
	return apierrors.NewForbidden(licenses, "", fmt.Errorf(
		"only admins of organization %s and platform admins may assign licenses to it; %s is neither", org.Name, u.GetName()))
}

// CheckKey verifies key for org at now and returns its claims, or a
// BadRequest saying why the key cannot be used: tampered, untrusted or
// malformed, expired, not yet valid, or bound to another organization.
func CheckKey(v *license.Verifier, key string, org *v1alpha1.Organization, now time.Time) (*license.Claims, error) {
	claims, phase, err := v.Verify(key, now)
	if phase != license.Valid {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("License key refused (%s): %v", phase, err))
	}
	if !claims.Allows(org.Name, string(org.UID)) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("License key refused: %v (%q), not to %s", license.ErrWrongAudience, claims.Organization, org.Name))
	}
	return claims, nil
}

// ActiveElsewhere returns a Conflict when l's license id is held for an
// organization other than the one with uid orgUID (see Holder).
func ActiveElsewhere(ctx context.Context, r client.Reader, l *v1alpha1.License, id string, orgUID types.UID) error {
	holder, err := Holder(ctx, r, l, id, orgUID)
	if err != nil || holder == nil {
		return err
	}
	return apierrors.NewConflict(licenses, l.Name, fmt.Errorf(
		"license id %s is already active in another organization (License %s); one license is active in one organization only", id, holder.Name))
}

// Holder is the License that holds license id for an organization other
// than the one with uid orgUID, ahead of l: one bound there and created
// before l (by name when created in the same second; l not created yet
// comes last). nil when there is none. One license id is active in one
// organization only. The reader lists Licenses by index.LicenseID.
func Holder(ctx context.Context, r client.Reader, l *v1alpha1.License, id string, orgUID types.UID) (*v1alpha1.License, error) {
	list := &v1alpha1.LicenseList{}
	if err := r.List(ctx, list, client.MatchingFields{index.LicenseID: id}); err != nil {
		return nil, fmt.Errorf("failed to list licenses by id: %w", err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.Name == l.Name || BoundTo(o) == "" || BoundTo(o) == orgUID {
			continue
		}
		if createdBefore(o, l) {
			return o, nil
		}
	}
	return nil, nil
}

// NewAssignment stands for License name taking an assignment it does not
// have yet: it comes after every License that holds the id already.
func NewAssignment(name string) *v1alpha1.License {
	return &v1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// createdBefore says whether a was created before b, by name on a tie; b
// not created yet comes after every License.
func createdBefore(a, b *v1alpha1.License) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	switch {
	case tb.IsZero():
		return true
	case !ta.Equal(tb):
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

// BoundTo is the uid of the organization a License is bound to, or "".
func BoundTo(l *v1alpha1.License) types.UID {
	if l.Spec.Organization == "" {
		return ""
	}
	if l.Spec.OrganizationUID != "" {
		return types.UID(l.Spec.OrganizationUID)
	}
	if l.Status.Organization == l.Spec.Organization {
		return types.UID(l.Status.OrganizationUID)
	}
	return ""
}

// OrganizationOf reads the organization a license is assigned to and
// checks spec.organizationUID against it; a BadRequest when it does not
// exist or the uid does not match.
func OrganizationOf(ctx context.Context, r client.Reader, l *v1alpha1.License) (*v1alpha1.Organization, error) {
	org := &v1alpha1.Organization{}
	err := r.Get(ctx, types.NamespacedName{Name: l.Spec.Organization}, org)
	if apierrors.IsNotFound(err) || (err == nil && !org.DeletionTimestamp.IsZero()) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("License %s refused: spec.organization: organization %q does not exist (or is being deleted); create it first", l.Name, l.Spec.Organization))
	}
	if err != nil {
		return nil, err
	}
	if l.Spec.OrganizationUID != "" && l.Spec.OrganizationUID != string(org.UID) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("License %s refused: spec.organizationUID %s is not the uid of organization %s (%s)", l.Name, l.Spec.OrganizationUID, org.Name, org.UID))
	}
	return org, nil
}
