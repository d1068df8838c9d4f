package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/quota"
	"github.com/orgplane/orgplane/internal/usage"
)

// ShareQuotaName is the ResourceQuota holding a workspace's share of its
// organization's total.
const ShareQuotaName = usage.ShareQuotaName

// AnnotationOrganizationTotal, on a share quota, is the total it is a share of.
const AnnotationOrganizationTotal = "orgplane.io/organization-total"

// How soon shares are looked at again when the quota controller has not
// yet reported a share quota's usage, or enforced a lowered share.
const (
	usageUnknownRetry = 2 * time.Second
	enforcementRetry  = time.Second
)

// share is one workspace's share quota as read from the API server.
type share struct {
	quota *corev1.ResourceQuota
	going bool // the workspace is being deleted: it keeps what it uses
}

// reconcileShares shares the organization's total among its workspaces
// (quota.Share): kube-apiserver's quota admission enforces each share
// atomically, and the shares never add up to more than the total. Shares
// move only when a workspace has used its own up, when the workspaces or
// the total change; they are lowered before others are raised (and raised
// only once the quota controller enforces the lowering), each write
// conditional on the usage it was computed from.
func (r *GuardrailsReconciler) reconcileShares(ctx context.Context, org string, g *v1alpha1.Guardrails) (time.Duration, error) {
	shares, err := r.readShares(ctx, org, g)
	if err != nil || shares == nil {
		return 0, err
	}
	targets, known := shareTargets(g, shares)
	if !known {
		return usageUnknownRetry, nil
	}
	if !needsRebalance(g.Organization, shares, targets) {
		return 0, nil
	}
	if err := r.writeShares(ctx, shares, targets, g.Organization, lowerOnly); err != nil {
		return 0, err
	}
	if lowering(shares) {
		return enforcementRetry, nil
	}
	return 0, r.writeShares(ctx, shares, raisable(g.Organization, shares, targets), g.Organization, raiseToTarget)
}

// lowering is true while a share is lowered in its spec but not yet in
// its status: quota admission enforces status.hard, which the quota
// controller copies from spec.hard a moment later, so nothing is raised
// until every lowering is enforced.
func lowering(shares map[string]*share) bool {
	for _, s := range shares {
		for res, enforced := range s.quota.Status.Hard {
			if want, ok := s.quota.Spec.Hard[res]; ok && enforced.Cmp(want) > 0 {
				return true
			}
		}
	}
	return false
}

// readShares reads every workspace's share quota live, creating missing
// ones with nothing to share yet (kube-apiserver refuses Pods until the
// quota controller reports the usage, and the next pass shares the total).
func (r *GuardrailsReconciler) readShares(ctx context.Context, org string, g *v1alpha1.Guardrails) (map[string]*share, error) {
	workspaces, err := usage.Workspaces(ctx, r.Client, org)
	if err != nil {
		return nil, err
	}
	shares := make(map[string]*share, len(workspaces))
	for i := range workspaces {
		ns := &workspaces[i]
		q := &corev1.ResourceQuota{}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: ShareQuotaName}, q)
		switch {
		case apierrors.IsNotFound(err) && ns.DeletionTimestamp.IsZero():
			if q, err = r.createShare(ctx, ns, g.Organization); err != nil {
				return nil, err
			}
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("failed to read the share quota of %s: %w", ns.Name, err)
		}
		shares[ns.Name] = &share{quota: q, going: !ns.DeletionTimestamp.IsZero()}
	}
	return shares, nil
}

func (r *GuardrailsReconciler) createShare(ctx context.Context, ns *corev1.Namespace, total corev1.ResourceList) (*corev1.ResourceQuota, error) {
	hard := corev1.ResourceList{}
	for name := range total {
		hard[name] = quota.Quantity(name, 0)
	}
	q := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: ShareQuotaName, Namespace: ns.Name, Labels: guardrailLabels(ns),
			Annotations: map[string]string{AnnotationOrganizationTotal: listString(total)}},
		Spec: corev1.ResourceQuotaSpec{Hard: hard},
	}
	if err := r.Create(ctx, q); err != nil {
		return nil, fmt.Errorf("failed to create the share quota of %s: %w", ns.Name, err)
	}
	return q, enforceNow(ctx, r.Client, q)
}

// shareTargets are the shares quota.Share gives, capped by the
// per-workspace quota; known is false while a share's usage is unreported.
func shareTargets(g *v1alpha1.Guardrails, shares map[string]*share) (map[string]corev1.ResourceList, bool) {
	workspaces := make([]quota.Workspace, 0, len(shares))
	for name, s := range shares {
		used := s.quota.Status.Used
		for res := range g.Organization {
			if _, ok := used[res]; !ok {
				return nil, false
			}
		}
		w := quota.Workspace{Name: name, Used: used, Cap: g.Workspace}
		if s.going {
			w.Cap = used
		}
		workspaces = append(workspaces, w)
	}
	return quota.Share(g.Organization, workspaces), true
}

// needsRebalance: a workspace has a resource other than the total's, has
// used up a share that could grow, or the shares do not add up to what
// the total gives.
func needsRebalance(total corev1.ResourceList, shares map[string]*share, targets map[string]corev1.ResourceList) bool {
	hards, wants := []corev1.ResourceList{}, []corev1.ResourceList{}
	for name, s := range shares {
		hard := s.quota.Spec.Hard
		if !sameNames(hard, total) || s.quota.Annotations[AnnotationOrganizationTotal] != listString(total) {
			return true
		}
		for res, h := range hard {
			used, want := s.quota.Status.Used[res], targets[name][res]
			if used.Cmp(h) >= 0 && want.Cmp(h) > 0 {
				return true
			}
		}
		hards, wants = append(hards, hard), append(wants, targets[name])
	}
	return !equality.Semantic.DeepEqual(quota.Sum(hards...), quota.Sum(wants...))
}

// raisable drops the raises of a resource whose shares would add up to
// more than the total (its usage is over the total: nobody grows).
func raisable(total corev1.ResourceList, shares map[string]*share, targets map[string]corev1.ResourceList) map[string]corev1.ResourceList {
	sums := quota.Sum(valuesOf(targets)...)
	out := make(map[string]corev1.ResourceList, len(targets))
	for name, want := range targets {
		out[name] = corev1.ResourceList{}
		for res, q := range want {
			if sum := sums[res]; sum.Cmp(total[res]) > 0 {
				q = shares[name].quota.Spec.Hard[res]
			}
			out[name][res] = q
		}
	}
	return out
}

type writeMode bool

const (
	lowerOnly     writeMode = true
	raiseToTarget writeMode = false
)

// writeShares updates each share whose hard changes, conditional on the
// resourceVersion it was read at: a Pod admitted since then (which changes
// the quota's usage) makes the write fail and the pass start again.
func (r *GuardrailsReconciler) writeShares(ctx context.Context, shares map[string]*share, targets map[string]corev1.ResourceList, total corev1.ResourceList, mode writeMode) error {
	for name, s := range shares {
		q := s.quota.DeepCopy()
		q.Spec.Hard = nextHard(s.quota.Spec.Hard, targets[name], mode)
		if mode == raiseToTarget {
			metav1.SetMetaDataAnnotation(&q.ObjectMeta, AnnotationOrganizationTotal, listString(total))
		}
		if equality.Semantic.DeepEqual(q.Spec, s.quota.Spec) && equality.Semantic.DeepEqual(q.Annotations, s.quota.Annotations) {
			continue
		}
		if err := r.Update(ctx, q); err != nil {
			return fmt.Errorf("failed to update the share quota of %s: %w", name, err)
		}
		s.quota = q
	}
	return nil
}

// nextHard is target where it is lower than hard (lowerOnly), or target.
func nextHard(hard, target corev1.ResourceList, mode writeMode) corev1.ResourceList {
	if mode == raiseToTarget {
		return target.DeepCopy()
	}
	out := corev1.ResourceList{}
	for res, want := range target {
		out[res] = want
		if h, ok := hard[res]; ok && h.Cmp(want) < 0 {
			out[res] = h
		}
	}
	return out
}

func sameNames(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			return false
		}
	}
	return true
}

func valuesOf(m map[string]corev1.ResourceList) []corev1.ResourceList {
	out := make([]corev1.ResourceList, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	return out
}

// listString writes a list as "name=quantity,..." sorted by name.
func listString(l corev1.ResourceList) string {
	parts := make([]string, 0, len(l))
	for name, q := range l {
		parts = append(parts, string(name)+"="+q.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// quotaUsageChanged passes a quota whose usage the quota controller or
// quota admission changed: a workspace may have used its share up, and
// the usage shown in status changed.
var quotaUsageChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	o, n := e.ObjectOld.(*corev1.ResourceQuota), e.ObjectNew.(*corev1.ResourceQuota)
	return !equality.Semantic.DeepEqual(o.Status.Used, n.Status.Used)
}}

// siblingWorkspaces maps a deleted workspace to the other workspaces of
// its organization, whose shares grow by what it held.
func (r *GuardrailsReconciler) siblingWorkspaces(ctx context.Context, o client.Object) []reconcile.Request {
	return r.workspacesOf(ctx, o.GetLabels()[v1alpha1.LabelOrganization])
}

// recordQuota shows on the workspace's Account what it uses of its quota
// (orgplane-quota, or its share when the plan has only a total).
func (r *GuardrailsReconciler) recordQuota(ctx context.Context, ns *corev1.Namespace) error {
	acct := &v1alpha1.Account{}
	key := types.NamespacedName{Namespace: v1alpha1.OrganizationNamespace(ns.Labels[v1alpha1.LabelOrganization]), Name: ns.Labels[v1alpha1.LabelAccount]}
	if err := r.Get(ctx, key, acct); err != nil || string(acct.UID) != ns.Labels[LabelAccountUID] {
		return client.IgnoreNotFound(err)
	}
	before := acct.DeepCopy()
	acct.Status.Quota = nil
	for _, name := range []string{QuotaName, ShareQuotaName} {
		q := &corev1.ResourceQuota{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: name}, q); err == nil {
			acct.Status.Quota = quotaUsage(q)
			break
		}
	}
	return patchStatus(ctx, r.Client, before, acct)
}

// quotaUsage is q's hard and what is used of it.
func quotaUsage(q *corev1.ResourceQuota) *v1alpha1.QuotaUsage {
	used := corev1.ResourceList{}
	for name := range q.Spec.Hard {
		if u, ok := q.Status.Used[name]; ok {
			used[name] = u
		}
	}
	return &v1alpha1.QuotaUsage{Hard: q.Spec.Hard.DeepCopy(), Used: used, Summary: quota.Summary(q.Spec.Hard, used)}
}
