// Package admission holds orgplane's validating webhooks: hard limits on
// accounts, members and Deployments, and license changes that would leave
// an organization over its limits.
package admission

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/usage"
)

// Limiter admits creates against an organization's limits atomically. As
// Kubernetes' ResourceQuota admission does, it counts what exists (read from
// the API server), adds the reservations of creates admitted but perhaps
// not visible yet, and records its own reservation in the Organization's
// status with a compare-and-swap update: concurrent admissions, in this
// process or another replica, conflict and count again, so a limit is never
// exceeded. Reservations lapse once the object is seen, or after TTL.
type Limiter struct {
	// Client writes the Organization status.
	Client client.Client
	// Reader reads from the API server, not a cache.
	Reader     client.Reader
	FreeLimits v1alpha1.Limits
	TTL        time.Duration

	locks sync.Map // organization name → *sync.Mutex
}

// maxAttempts bounds compare-and-swap retries between replicas.
const maxAttempts = 50

// Reserve admits one more resource named name in organization org, or
// returns a Forbidden error naming the limit, the usage and the license.
func (l *Limiter) Reserve(ctx context.Context, org, resource, name string, dryRun bool) error {
	mu, _ := l.locks.LoadOrStore(org, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for range maxAttempts {
		err := l.tryReserve(ctx, org, resource, name, dryRun)
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return apierrors.NewTooManyRequests(fmt.Sprintf("organization %s is busy with concurrent creates; retry", org), 1)
}

func (l *Limiter) tryReserve(ctx context.Context, orgName, resource, name string, dryRun bool) error {
	org := &v1alpha1.Organization{}
	if err := l.Reader.Get(ctx, types.NamespacedName{Name: orgName}, org); err != nil {
		return fmt.Errorf("failed to read organization %s: %w", orgName, err)
	}
	if org.Spec.Suspended {
		return suspended(groupResources[resource], "", "new "+resource)
	}
	inv, err := usage.TakeOnly(ctx, l.Reader, org, resource)
	if err != nil {
		return err
	}
	if slices.Contains(inv[resource], name) {
		return nil // counted already: one more of it is not one more
	}
	now := time.Now()
	kept := pending(org.Status.Reservations, inv, now)
	if slices.ContainsFunc(kept, func(r v1alpha1.Reservation) bool { return r.Resource == resource && r.Name == name }) {
		// Reserved already and not yet seen: counted once, and never
		// renewed, so repeating a request for an object that never
		// appears cannot hold a unit beyond the first TTL.
		return nil
	}
	used := int64(len(inv[resource]))
	for _, r := range kept {
		if r.Resource == resource {
			used++
		}
	}
	if limit := usage.LimitOf(l.limits(org), resource); used+1 > limit {
		return overLimit(org, resource, used, limit)
	}
	if dryRun {
		return nil
	}
	org.Status.Reservations = append(kept, v1alpha1.Reservation{
		Resource: resource, Name: name, Expires: metav1.NewTime(now.Add(l.TTL).Truncate(time.Second)),
	})
	return l.Client.Status().Update(ctx, org)
}

// pending keeps the reservations not yet visible in inv and not expired.
func pending(rs []v1alpha1.Reservation, inv usage.Inventory, now time.Time) []v1alpha1.Reservation {
	var out []v1alpha1.Reservation
	for _, r := range rs {
		if now.Before(r.Expires.Time) && !slices.Contains(inv[r.Resource], r.Name) {
			out = append(out, r)
		}
	}
	return out
}

func (l *Limiter) limits(org *v1alpha1.Organization) *v1alpha1.Limits {
	if org.Status.Limits != nil {
		return org.Status.Limits
	}
	return &l.FreeLimits
}

// groupResources name, in refusals, what was refused.
var groupResources = map[string]schema.GroupResource{
	usage.Accounts:    {Group: v1alpha1.GroupVersion.Group, Resource: "accounts"},
	usage.Users:       {Group: v1alpha1.GroupVersion.Group, Resource: "organizations"},
	usage.Deployments: {Group: "apps", Resource: "deployments"},
}

func overLimit(org *v1alpha1.Organization, resource string, used, limit int64) error {
	plan := org.Status.Plan
	if plan == "" {
		plan = v1alpha1.PlanFree
	}
	source := "the free plan"
	if org.Status.License != "" {
		source = "license " + org.Status.License
	}
	return apierrors.NewForbidden(groupResources[resource], "",
		fmt.Errorf("organization %s has reached its limit of %d %s (%d in use, %s plan, set by %s); delete one or assign a license with a higher limit",
			org.Name, limit, resource, used, plan, source))
}
