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
	"github.com/orgplane/orgplane/internal/plan"
	"github.com/orgplane/orgplane/internal/usage"
)

// Limiter admits creates against an organization's limits atomically. As
// Kubernetes' ResourceQuota admission does, it counts what exists, adds the
// reservations of creates admitted but perhaps not visible yet, and records
// its own reservation in the Organization's status with a compare-and-swap
// update: concurrent admissions, in this process or another replica,
// conflict and count again, so a limit is never exceeded.
//
// Admission cost is shared by every tenant, so the objects are counted from
// the manager's cache, not with a live LIST per workspace; only the
// Organization is read live, once per attempt. Why that stays exact:
//
//   - The Organization is read live and the reservation written with its
//     resourceVersion: if anything changed it since (another admission,
//     another replica, the reconciler), the write fails with Conflict and
//     the attempt is made again from a fresh read. So the reservations
//     counted are exactly those in force when the new one is recorded.
//   - A create admitted less than TTL ago holds a reservation: reservations
//     are dropped only when they expire, never because a cache has seen
//     their object. (Dropping them when seen was exact with live lists,
//     which never unsee an object; it is not with caches: the cache of
//     another replica, or of this one against a live read, may not have
//     seen the object yet and would count it nowhere.) An object counted
//     both in the cache and in a reservation counts once: the count is the
//     union of their names.
//   - An object admitted more than TTL ago was created or refused long
//     since and is in the cache: the assumption is that the cache trails
//     the API server by less than TTL, as the live count assumed that an
//     admitted create is stored within TTL. A cache that has not seen a
//     create yet can only under-count what the reservations cover.
//   - A cache that has not seen a delete yet over-counts; so a count that
//     would refuse is made again live before refusing.
//
// So a stale read can cost a Conflict and a retry, or a live recount, and
// never an over-admission while the cache trails by less than TTL. The
// price: an object deleted within TTL of its create holds its unit until
// its reservation expires. A dry-run writes nothing, so it neither takes
// the lock nor reads live: it answers from the cache (the Organization
// too), and costs less than the create it rehearses.
type Limiter struct {
	// Client writes the Organization status.
	Client client.Client
	// Cached is the manager's cache: the objects counted, and the
	// Organization of a dry-run.
	Cached client.Reader
	// Live reads from the API server: the Organization a reservation is
	// written against, and the recount before a refusal.
	Live client.Reader
	// Plan answers for organizations with no plan recorded yet.
	Plan plan.Settings
	TTL  time.Duration

	locks sync.Map // organization name → *sync.Mutex
}

// maxAttempts bounds compare-and-swap retries between replicas.
const maxAttempts = 50

// Reserve admits one more resource named name in organization org, or
// returns a Forbidden error naming the limit, the usage and the license.
func (l *Limiter) Reserve(ctx context.Context, org, resource, name string, dryRun bool) error {
	if dryRun {
		return l.rehearse(ctx, org, resource, name)
	}
	mu, _ := l.locks.LoadOrStore(org, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	for range maxAttempts {
		err := l.tryReserve(ctx, org, resource, name)
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return apierrors.NewTooManyRequests(fmt.Sprintf("organization %s is busy with concurrent creates; retry", org), 1)
}

// rehearse answers a dry-run from the cache alone: what the create would
// be told, as of the cache.
func (l *Limiter) rehearse(ctx context.Context, orgName, resource, name string) error {
	org := &v1alpha1.Organization{}
	err := l.Cached.Get(ctx, types.NamespacedName{Name: orgName}, org)
	if apierrors.IsNotFound(err) { // created a moment ago
		err = l.Live.Get(ctx, types.NamespacedName{Name: orgName}, org)
	}
	if err != nil {
		return fmt.Errorf("failed to read organization %s: %w", orgName, err)
	}
	if err := refuseNew(org, l.Plan.Of(org), groupResources[resource], "", "new "+resource); err != nil {
		return err
	}
	c, err := l.count(ctx, l.Cached, org, resource, name, time.Now())
	if err != nil || c.counted {
		return err
	}
	if limit := usage.LimitOf(&l.Plan.Of(org).Limits, resource); c.used+1 > limit {
		return overLimit(org, l.Plan.Of(org), resource, c.used, limit)
	}
	return nil
}

func (l *Limiter) tryReserve(ctx context.Context, orgName, resource, name string) error {
	org := &v1alpha1.Organization{}
	if err := l.Live.Get(ctx, types.NamespacedName{Name: orgName}, org); err != nil {
		return fmt.Errorf("failed to read organization %s: %w", orgName, err)
	}
	if err := refuseNew(org, l.Plan.Of(org), groupResources[resource], "", "new "+resource); err != nil {
		return err
	}
	now := time.Now()
	c, err := l.count(ctx, l.Cached, org, resource, name, now)
	if err != nil || c.reserved {
		// Reserved already and not expired: counted once, and never
		// renewed, so repeating a request for an object that never
		// appears cannot hold a unit beyond the first TTL.
		return err
	}
	limit := usage.LimitOf(&l.Plan.Of(org).Limits, resource)
	if !c.counted && c.used+1 > limit {
		// The cache may not have seen a delete yet: refuse on a live count only.
		if c, err = l.count(ctx, l.Live, org, resource, name, now); err != nil || c.reserved {
			return err
		}
		if !c.counted && c.used+1 > limit {
			return overLimit(org, l.Plan.Of(org), resource, c.used, limit)
		}
	}
	// Counted already (in the cache, which may still show a deleted one of
	// the same name) or within the limit: reserve, so that the object is
	// counted until every cache has seen it.
	org.Status.Reservations = append(unexpired(org.Status.Reservations, now), v1alpha1.Reservation{
		Resource: resource, Name: name, Expires: metav1.NewTime(now.Add(l.TTL).Truncate(time.Second)),
	})
	return l.Client.Status().Update(ctx, org)
}

// usageCount is an organization's use of one resource: the objects r
// shows and the unexpired reservations, each name once.
type usageCount struct {
	used int64
	// counted says the name asked for is among them; reserved, that it is
	// among the reservations.
	counted, reserved bool
}

func (l *Limiter) count(ctx context.Context, r client.Reader, org *v1alpha1.Organization, resource, name string, now time.Time) (usageCount, error) {
	inv, err := usage.TakeOnly(ctx, r, org, resource)
	if err != nil {
		return usageCount{}, err
	}
	names := map[string]bool{}
	for _, n := range seatsOf(inv, resource) {
		names[n] = true
	}
	var c usageCount
	for _, res := range unexpired(org.Status.Reservations, now) {
		if res.Resource == resource {
			names[res.Name] = true
			c.reserved = c.reserved || res.Name == name
		}
	}
	c.used, c.counted = int64(len(names)), names[name]
	return c, nil
}

// WithinSeats refuses when org uses more seats than its plan allows,
// counted live: after a downgrade, invitations are frozen (none is
// accepted) and nobody is removed.
func (l *Limiter) WithinSeats(ctx context.Context, org *v1alpha1.Organization) error {
	c, err := l.count(ctx, l.Live, org, usage.Users, "", time.Now())
	if err != nil {
		return err
	}
	p := l.Plan.Of(org)
	if c.used <= p.Limits.Users {
		return nil
	}
	return apierrors.NewForbidden(groupResources[usage.Users], "", fmt.Errorf(
		"organization %s uses %d seats (members and pending invitations), more than the %d of its %s plan: "+
			"invitations are frozen and nobody is removed; free seats or assign a license with more users", org.Name, c.used, p.Limits.Users, p.Type))
}

// seatsOf are the names that count against resource's limit: for users,
// the members and the people pending invitations hold seats for (the one
// seat ledger every way of joining goes through).
func seatsOf(inv usage.Inventory, resource string) []string {
	if resource == usage.Users {
		return append(slices.Clone(inv[usage.Users]), inv[usage.Invitees]...)
	}
	return inv[resource]
}

// unexpired keeps the reservations that have not lapsed.
func unexpired(rs []v1alpha1.Reservation, now time.Time) []v1alpha1.Reservation {
	var out []v1alpha1.Reservation
	for _, r := range rs {
		if now.Before(r.Expires.Time) {
			out = append(out, r)
		}
	}
	return out
}

// groupResources name, in refusals, what was refused.
var groupResources = map[string]schema.GroupResource{
	usage.Accounts:    {Group: v1alpha1.GroupVersion.Group, Resource: "accounts"},
	usage.Users:       {Group: v1alpha1.GroupVersion.Group, Resource: "organizations"},
	usage.Deployments: {Group: "apps", Resource: "deployments"},
}

func overLimit(org *v1alpha1.Organization, p *v1alpha1.Plan, resource string, used, limit int64) error {
	source := "the free plan"
	if p.License != "" {
		source = "license " + p.License
	}
	return apierrors.NewForbidden(groupResources[resource], "",
		fmt.Errorf("organization %s has reached its limit of %d %s (%d in use, %s plan, set by %s); delete one or assign a license with a higher limit",
			org.Name, limit, resource, used, p.Type, source))
}

// refuseNew refuses what an organization may not get while it is
// suspended, or while its plan is Restricted (its license is past its
// grace period: what exists keeps running, nothing new is admitted).
func refuseNew(org *v1alpha1.Organization, p *v1alpha1.Plan, gr schema.GroupResource, name, what string) error {
	if org.Spec.Suspended {
		return suspended(gr, name, what)
	}
	if p.Phase != v1alpha1.PlanPhaseRestricted {
		return nil
	}
	return apierrors.NewForbidden(gr, name, fmt.Errorf(
		"organization %s is restricted: license %s expired at %s and its grace period ended at %s; it keeps running but gets no %s until a renewed license key is applied (kubectl apply the new License, or PUT it through the REST API)",
		org.Name, p.License, p.ExpiresAt.UTC().Format(time.RFC3339), p.GraceEndsAt.UTC().Format(time.RFC3339), what))
}
