package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/custody"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
)

// keyReader turns Licenses into the keys internal/plan decides on: each
// key verified here (never read from a License status that may trail its
// spec, which would leave a moment on a smaller plan after a key is
// replaced), with the revocation list in force and the custody rule
// applied.
type keyReader struct {
	client.Reader
	Verifier *license.Verifier
}

// organizationKeys are the keys of the Licenses bound to org by uid, and
// those Licenses by name.
func (k keyReader) organizationKeys(ctx context.Context, org *v1alpha1.Organization) ([]plan.Key, error) {
	list := &v1alpha1.LicenseList{}
	if err := k.List(ctx, list, client.MatchingFields{index.LicenseOrganization: org.Name}); err != nil {
		return nil, fmt.Errorf("failed to list licenses: %w", err)
	}
	return k.keys(ctx, list.Items, org.UID)
}

// keys are the keys of those of licenses bound to the organization with
// uid orgUID.
func (k keyReader) keys(ctx context.Context, licenses []v1alpha1.License, orgUID types.UID) ([]plan.Key, error) {
	revs, err := inForceRevocations(ctx, k.Reader, k.Verifier)
	if err != nil {
		return nil, err
	}
	var keys []plan.Key
	for i := range licenses {
		l := &licenses[i]
		if orgUID == "" || custody.BoundTo(l) != orgUID {
			continue
		}
		key, err := k.key(ctx, l, revs, orgUID)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func (k keyReader) key(ctx context.Context, l *v1alpha1.License, revs *license.Revocations, orgUID types.UID) (plan.Key, error) {
	key := plan.Key{Name: l.Name}
	claims, phase, _ := k.Verifier.Verify(l.Spec.Key, time.Now())
	if phase == license.Invalid || !claims.Allows(l.Spec.Organization, string(orgUID)) {
		return key, nil
	}
	key.Claims, key.Revoked = claims, revs.Revokes(claims.ID)
	holder, err := custody.Holder(ctx, k.Reader, l, claims.ID, orgUID)
	key.HeldElsewhere = holder != nil
	return key, err
}

// planChanged passes an Organization whose plan changed: the account and
// guardrails reconcilers act on the plan the organization reconciler
// decided, so License → Organization status → quotas is one chain.
var planChanged = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, n := e.ObjectOld.(*v1alpha1.Organization), e.ObjectNew.(*v1alpha1.Organization)
		return !equality.Semantic.DeepEqual(o.Status.Plan, n.Status.Plan)
	},
}
