package usage

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/internal/quota"
)

// Names of the ResourceQuotas orgplane writes into every workspace.
const (
	// QuotaName is the workspace's own quota.
	QuotaName = "orgplane-quota"
	// ShareQuotaName is the workspace's share of its organization's total.
	ShareQuotaName = "orgplane-organization-share"
)

// QuotaUsed is what the quota controller reports a workspace uses, from
// orgplane's quotas there; a resource none of them names is absent (its
// usage is not counted anywhere).
func QuotaUsed(ctx context.Context, r client.Reader, namespace string) (corev1.ResourceList, error) {
	used := corev1.ResourceList{}
	for _, name := range []string{QuotaName, ShareQuotaName} {
		q := &corev1.ResourceQuota{}
		err := r.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, q)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read quota %s/%s: %w", namespace, name, err)
		}
		for res, u := range q.Status.Used {
			if have, ok := used[res]; !ok || u.Cmp(have) > 0 {
				used[res] = u
			}
		}
	}
	return used, nil
}

// UsedOrCounted is QuotaUsed, plus what no quota reports of pods and
// persistentvolumeclaims: the objects in the namespace (Pods not yet
// finished), read from r, which should be a live reader (a list through
// the manager's cache would cache every Pod of the cluster). So a plan
// change is judged by what runs, even in a workspace where no quota ever
// counted it. Compute and storage no quota reports stay uncounted.
func UsedOrCounted(ctx context.Context, r client.Reader, namespace string) (corev1.ResourceList, error) {
	used, err := QuotaUsed(ctx, r, namespace)
	if err != nil {
		return nil, err
	}
	if _, ok := used[corev1.ResourcePods]; !ok {
		pods := &corev1.PodList{}
		if err := r.List(ctx, pods, client.InNamespace(namespace)); err != nil {
			return nil, fmt.Errorf("failed to count the Pods of %s: %w", namespace, err)
		}
		n := 0
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				n++
			}
		}
		used[corev1.ResourcePods] = *resource.NewQuantity(int64(n), resource.DecimalSI)
	}
	if _, ok := used[corev1.ResourcePersistentVolumeClaims]; !ok {
		claims := &metav1.PartialObjectMetadataList{}
		claims.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaimList"))
		if err := r.List(ctx, claims, client.InNamespace(namespace)); err != nil {
			return nil, fmt.Errorf("failed to count the PersistentVolumeClaims of %s: %w", namespace, err)
		}
		used[corev1.ResourcePersistentVolumeClaims] = *resource.NewQuantity(int64(len(claims.Items)), resource.DecimalSI)
	}
	return used, nil
}

// QuotaViolations lists what a plan with these per-workspace and
// organization-wide quotas would put over quota, by the usage used reads
// from r (QuotaUsed or UsedOrCounted), and what the workspaces use
// together of the resources total names.
func QuotaViolations(ctx context.Context, r client.Reader, used func(context.Context, client.Reader, string) (corev1.ResourceList, error),
	org string, perWorkspace, total corev1.ResourceList) ([]quota.Violation, corev1.ResourceList, error) {
	if len(perWorkspace) == 0 && len(total) == 0 {
		return nil, nil, nil
	}
	workspaces, err := Workspaces(ctx, r, org)
	if err != nil {
		return nil, nil, err
	}
	var out []quota.Violation
	all := make([]corev1.ResourceList, 0, len(workspaces))
	for _, ws := range workspaces {
		inUse, err := used(ctx, r, ws.Name)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, quota.Over(ws.Name, perWorkspace, inUse)...)
		all = append(all, inUse)
	}
	sum := corev1.ResourceList{}
	for name, q := range quota.Sum(all...) {
		if _, ok := total[name]; ok {
			sum[name] = q
		}
	}
	return append(out, quota.Over("organization total", total, sum)...), sum, nil
}
