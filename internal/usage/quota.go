package usage

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

// QuotaViolations lists what a plan with these per-workspace and
// organization-wide quotas would put over quota, by the usage r reads,
// and what the workspaces use together of the resources total names.
func QuotaViolations(ctx context.Context, r client.Reader, org string, perWorkspace, total corev1.ResourceList) ([]quota.Violation, corev1.ResourceList, error) {
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
		used, err := QuotaUsed(ctx, r, ws.Name)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, quota.Over(ws.Name, perWorkspace, used)...)
		all = append(all, used)
	}
	sum := corev1.ResourceList{}
	for name, q := range quota.Sum(all...) {
		if _, ok := total[name]; ok {
			sum[name] = q
		}
	}
	return append(out, quota.Over("organization total", total, sum)...), sum, nil
}
