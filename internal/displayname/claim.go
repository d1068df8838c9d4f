package displayname

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Namespace holds the display-name claims.
const Namespace = "orgplane-system"

// Labels and annotations on a claim.
const (
	// AnnotationDisplayName is the display name a claim stands for.
	AnnotationDisplayName = "orgplane.io/display-name"
	// AnnotationOrganizationUID is the uid of the organization holding it.
	AnnotationOrganizationUID = "orgplane.io/organization-uid"
)

// Grace is how long a claim whose organization cannot be found (yet) is
// kept: a create is admitted before it is stored. After it, the claim of a
// create or rename that failed is stale and the next claimant removes it.
var Grace = 30 * time.Second

// Claims takes and releases display-name claims. Every writer of an
// Organization crosses the admission webhook, which takes the claim: the
// API server lets only one create of a claim's name succeed, so exactly one
// of any number of concurrent creates and renames to one name wins.
type Claims struct {
	// Client creates and deletes claims.
	Client client.Client
	// Reader reads claims and organizations from the API server.
	Reader client.Reader
	// Cached lists organizations by the display-name index, to find
	// organizations made before claims existed.
	Cached client.Reader
	// IndexField is the field index of normalized display names.
	IndexField string
}

// Take claims org's display name for org, or returns a Conflict naming
// the organization that has it. With dryRun it only checks.
func (c *Claims) Take(ctx context.Context, org *v1alpha1.Organization, dryRun bool) error {
	if err := c.unclaimedOwner(ctx, org); err != nil {
		return err
	}
	lease := claimFor(org)
	if dryRun {
		_, err := c.checkFree(ctx, org, lease.Name)
		return err
	}
	err := c.Client.Create(ctx, lease)
	if apierrors.IsAlreadyExists(err) {
		var held bool
		if held, err = c.checkFree(ctx, org, lease.Name); err == nil && !held {
			err = c.Client.Create(ctx, lease)
		}
	}
	if apierrors.IsAlreadyExists(err) {
		return taken(org.Spec.DisplayName)
	}
	if err != nil {
		return fmt.Errorf("failed to claim display name %q: %w", org.Spec.DisplayName, err)
	}
	return nil
}

// unclaimedOwner refuses a display name an organization made before claims
// existed already uses.
func (c *Claims) unclaimedOwner(ctx context.Context, org *v1alpha1.Organization) error {
	orgs := &v1alpha1.OrganizationList{}
	key := client.MatchingFields{c.IndexField: Normalize(org.Spec.DisplayName)}
	if err := c.Cached.List(ctx, orgs, key); err != nil {
		return fmt.Errorf("failed to list organizations by display name: %w", err)
	}
	for _, o := range orgs.Items {
		if o.Name != org.Name {
			return taken(org.Spec.DisplayName)
		}
	}
	return nil
}

// checkFree answers nil when claim name is free for org: absent, stale
// (then it is removed), or already org's (then held is true).
func (c *Claims) checkFree(ctx context.Context, org *v1alpha1.Organization, name string) (held bool, err error) {
	lease := &coordinationv1.Lease{}
	err = c.Reader.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: name}, lease)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to read display-name claim: %w", err)
	}
	if holds(lease, org) {
		return true, c.adopt(ctx, lease, org)
	}
	live, err := c.live(ctx, lease)
	if err != nil || live {
		return false, firstErr(err, taken(org.Spec.DisplayName))
	}
	err = c.Client.Delete(ctx, lease, client.Preconditions{UID: &lease.UID})
	return false, client.IgnoreNotFound(err)
}

// adopt records org's uid on a claim org holds by name (a claim made for
// the same organization by a create that was retried).
func (c *Claims) adopt(ctx context.Context, lease *coordinationv1.Lease, org *v1alpha1.Organization) error {
	if org.UID == "" || lease.Annotations[AnnotationOrganizationUID] == string(org.UID) {
		return nil
	}
	patch := client.MergeFromWithOptions(lease.DeepCopy(), client.MergeFromWithOptimisticLock{})
	lease.Annotations[AnnotationOrganizationUID] = string(org.UID)
	return c.Client.Patch(ctx, lease, patch)
}

// live says whether a claim still stands for its organization: the
// organization exists with the claim's uid and still has that display
// name, or the claim is younger than Grace (its create is in flight).
func (c *Claims) live(ctx context.Context, lease *coordinationv1.Lease) (bool, error) {
	if time.Since(lease.CreationTimestamp.Time) < Grace {
		return true, nil
	}
	holder := &v1alpha1.Organization{}
	err := c.Reader.Get(ctx, types.NamespacedName{Name: lease.Labels[v1alpha1.LabelOrganization]}, holder)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to read the organization holding a display-name claim: %w", err)
	}
	sameOrg := string(holder.UID) == lease.Annotations[AnnotationOrganizationUID]
	return sameOrg && ClaimName(holder.Spec.DisplayName) == lease.Name, nil
}

// holds says whether lease is org's claim.
func holds(lease *coordinationv1.Lease, org *v1alpha1.Organization) bool {
	uid := lease.Annotations[AnnotationOrganizationUID]
	return lease.Labels[v1alpha1.LabelOrganization] == org.Name && (uid == "" || org.UID == "" || uid == string(org.UID))
}

func claimFor(org *v1alpha1.Organization) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
		Name: ClaimName(org.Spec.DisplayName), Namespace: Namespace,
		Labels: map[string]string{v1alpha1.LabelOrganization: org.Name, v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue},
		Annotations: map[string]string{AnnotationDisplayName: org.Spec.DisplayName,
			AnnotationOrganizationUID: string(org.UID)},
	}}
}

// Keep makes sure org holds the claim of its display name. It is called by
// the Organization reconciler; an organization made before claims existed
// gets one here (owned by org) unless another holds it. A claim admission
// made is left as it is: it carries org's uid already (validating admission
// sees the uid kube-apiserver gave the create), and it goes when org goes by
// the finalizer (Release), by the delete event (ReleaseOrphans), or, should
// both be missed, by the next claimant finding it stale. Making org its
// owner too would cost a write per organization for a fourth way.
func (c *Claims) Keep(ctx context.Context, org *v1alpha1.Organization) error {
	lease := &coordinationv1.Lease{}
	err := c.Reader.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: ClaimName(org.Spec.DisplayName)}, lease)
	if apierrors.IsNotFound(err) {
		return c.claimAgain(ctx, org)
	}
	if err != nil || !holds(lease, org) {
		return err
	}
	return c.adopt(ctx, lease, org)
}

// claimAgain makes the missing claim of org's display name, unless org, as
// kube-apiserver has it now, no longer has that name: the reconciler's
// copy may predate a rename whose admission has just dropped the claim,
// and claiming the old name again would hold it from others.
func (c *Claims) claimAgain(ctx context.Context, org *v1alpha1.Organization) error {
	live := &v1alpha1.Organization{}
	if err := c.Reader.Get(ctx, types.NamespacedName{Name: org.Name}, live); err != nil {
		return client.IgnoreNotFound(err)
	}
	if live.UID != org.UID || ClaimName(live.Spec.DisplayName) != ClaimName(org.Spec.DisplayName) {
		return nil
	}
	lease := claimFor(live)
	lease.OwnerReferences = ownedBy(live)
	return client.IgnoreAlreadyExists(c.Client.Create(ctx, lease))
}

// Drop removes org's claim on a display name it no longer uses (after a
// rename). Should the rename not be stored after all, the display-name
// index still refuses the old name to others, and Keep claims it again.
func (c *Claims) Drop(ctx context.Context, org *v1alpha1.Organization, displayName string) error {
	lease := &coordinationv1.Lease{}
	err := c.Reader.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: ClaimName(displayName)}, lease)
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	if held, err := c.heldBy(ctx, lease, org); err != nil || !held {
		return err
	}
	return client.IgnoreNotFound(c.Client.Delete(ctx, lease, client.Preconditions{UID: &lease.UID}))
}

// heldBy says whether lease is the claim of the live organization whose uid
// org carries: a request that names no uid, or another's, drops nothing,
// whoever sends it.
func (c *Claims) heldBy(ctx context.Context, lease *coordinationv1.Lease, org *v1alpha1.Organization) (bool, error) {
	if org.UID == "" || lease.Labels[v1alpha1.LabelOrganization] != org.Name {
		return false, nil
	}
	if uid := lease.Annotations[AnnotationOrganizationUID]; uid != "" {
		return uid == string(org.UID), nil
	}
	live := &v1alpha1.Organization{}
	if err := c.Reader.Get(ctx, types.NamespacedName{Name: org.Name}, live); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return live.UID == org.UID, nil
}

// Release removes every claim org holds; the Organization reconciler calls
// it before it lets a deleted organization go, however it was deleted.
func (c *Claims) Release(ctx context.Context, org *v1alpha1.Organization) error {
	leases := &coordinationv1.LeaseList{}
	if err := c.Reader.List(ctx, leases, client.InNamespace(Namespace),
		client.MatchingLabels{v1alpha1.LabelOrganization: org.Name, v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}); err != nil {
		return fmt.Errorf("failed to list display-name claims: %w", err)
	}
	for i := range leases.Items {
		l := &leases.Items[i]
		if !holds(l, org) {
			continue
		}
		if err := client.IgnoreNotFound(c.Client.Delete(ctx, l, client.Preconditions{UID: &l.UID})); err != nil {
			return fmt.Errorf("failed to release display-name claim %s: %w", l.Name, err)
		}
	}
	return nil
}

// ReleaseOrphans removes the claims labelled with organization name, which
// no longer exists: it was deleted before its finalizer was added, or its
// create failed after admission. A claim younger than Grace may be an
// organization of that name being created right now: it is kept, and the
// time until it may go is returned.
func (c *Claims) ReleaseOrphans(ctx context.Context, name string) (time.Duration, error) {
	leases := &coordinationv1.LeaseList{}
	if err := c.Reader.List(ctx, leases, client.InNamespace(Namespace),
		client.MatchingLabels{v1alpha1.LabelOrganization: name, v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue}); err != nil {
		return 0, fmt.Errorf("failed to list display-name claims: %w", err)
	}
	var wait time.Duration
	for i := range leases.Items {
		l := &leases.Items[i]
		if left := Grace - time.Since(l.CreationTimestamp.Time); left > 0 {
			wait = max(wait, left+time.Second)
			continue
		}
		if err := client.IgnoreNotFound(c.Client.Delete(ctx, l, client.Preconditions{UID: &l.UID})); err != nil {
			return 0, fmt.Errorf("failed to release display-name claim %s: %w", l.Name, err)
		}
	}
	return wait, nil
}

func ownedBy(org *v1alpha1.Organization) []metav1.OwnerReference {
	return []metav1.OwnerReference{*metav1.NewControllerRef(org, v1alpha1.GroupVersion.WithKind("Organization"))}
}

func taken(displayName string) error {
	return apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "organizations"}, displayName,
		fmt.Errorf("the display name %q is already used by another organization (display names are compared trimmed, NFKC-normalized and case-folded); choose another", displayName))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
