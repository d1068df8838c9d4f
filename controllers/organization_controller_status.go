package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// PlanFree is the plan of an organization with no valid license.
const PlanFree = "free"

// setStatus records plan, limits, usage and the kstatus conditions.
func (r *OrganizationReconciler) setStatus(ctx context.Context, org *v1alpha1.Organization, err error) {
	usage, uerr := r.usage(ctx, org)
	if uerr != nil && err == nil {
		err = uerr
	}
	limits := r.FreeLimits
	org.Status.Plan = PlanFree
	org.Status.Limits = &limits
	org.Status.Usage = usage
	org.Status.UsageSummary = usageSummary(usage, &limits)
	recordUsage(org.Name, usage, &limits)
	org.Status.ObservedGeneration = org.Generation
	setKstatusConditions(&org.Status.Conditions, org.Generation, err, "Namespace, RBAC and users are provisioned")
}

// usage counts the organization's accounts, members and the Deployments in
// its accounts' workspace namespaces, from the cache.
func (r *OrganizationReconciler) usage(ctx context.Context, org *v1alpha1.Organization) (*v1alpha1.Usage, error) {
	accounts := &v1alpha1.AccountList{}
	if err := r.List(ctx, accounts, client.InNamespace(org.NamespaceName())); err != nil {
		return nil, fmt.Errorf("failed to list accounts: %w", err)
	}
	u := &v1alpha1.Usage{Accounts: int64(len(accounts.Items)), Users: int64(len(org.Spec.Members))}
	for i := range accounts.Items {
		deployments := &metav1.PartialObjectMetadataList{}
		deployments.SetGroupVersionKind(deploymentListGVK)
		ws := accounts.Items[i].WorkspaceName(org.Name)
		if err := r.List(ctx, deployments, client.InNamespace(ws)); err != nil {
			return nil, fmt.Errorf("failed to list deployments in %s: %w", ws, err)
		}
		u.Deployments += int64(len(deployments.Items))
	}
	return u, nil
}

func usageSummary(u *v1alpha1.Usage, l *v1alpha1.Limits) string {
	if u == nil || l == nil {
		return ""
	}
	return fmt.Sprintf("%d/%d accounts, %d/%d users, %d/%d deployments",
		u.Accounts, l.Accounts, u.Users, l.Users, u.Deployments, l.Deployments)
}
