package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
	"github.com/orgplane/orgplane/internal/quota"
	"github.com/orgplane/orgplane/internal/usage"
)

// setStatus records plan, limits, usage and the conditions.
func (r *OrganizationReconciler) setStatus(ctx context.Context, org *v1alpha1.Organization, err error) {
	inv, uerr := usage.Take(ctx, r.Client, org)
	if uerr != nil && err == nil {
		err = uerr
	}
	lic, lerr := EffectiveLicense(ctx, r.Client, org, time.Now())
	if lerr != nil && err == nil {
		err = lerr
	}
	setPlan(org, lic, r.FreeLimits)
	org.Status.Usage = inv.Usage()
	org.Status.UsageSummary = usageSummary(org.Status.Usage, org.Status.Limits)
	recordUsage(org.Name, org.Status.Usage, org.Status.Limits)
	org.Status.ObservedGeneration = org.Generation
	over, qerr := r.setQuota(ctx, org, planGuardrails(lic, r.FreeGuardrails))
	if qerr != nil && err == nil {
		err = qerr
	}
	setLicenseCompliant(org, over)
	setKstatusConditions(&org.Status.Conditions, org.Generation, err, "Namespace, RBAC and users are provisioned")
}

func setPlan(org *v1alpha1.Organization, lic *v1alpha1.License, free v1alpha1.Limits) {
	if lic == nil {
		org.Status.Plan, org.Status.License, org.Status.LicenseExpiry = v1alpha1.PlanFree, "", nil
		org.Status.Limits = &free
		return
	}
	limits := *lic.Status.Limits
	org.Status.Plan, org.Status.License, org.Status.LicenseExpiry = lic.Status.Type, lic.Name, lic.Status.ExpiresAt
	org.Status.Limits = &limits
}

// planGuardrails are those of the effective license, with the free plan's
// where it leaves one out, or the free plan's.
func planGuardrails(lic *v1alpha1.License, free *v1alpha1.Guardrails) *v1alpha1.Guardrails {
	var g *v1alpha1.Guardrails
	if lic != nil {
		g = lic.Status.Guardrails
	}
	return g.Inherit(free)
}

// setQuota records the organization-wide total and its usage, and returns
// what the workspaces use over the plan's quotas (a license that expired
// leaves a smaller plan: nothing is deleted, it is reported).
func (r *OrganizationReconciler) setQuota(ctx context.Context, org *v1alpha1.Organization, g *v1alpha1.Guardrails) ([]quota.Violation, error) {
	over, used, err := usage.QuotaViolations(ctx, r.Client, usage.QuotaUsed, org.Name, g.Workspace, g.Organization)
	org.Status.Quota = nil
	if len(g.Organization) > 0 && err == nil {
		org.Status.Quota = &v1alpha1.QuotaUsage{Hard: g.Organization, Used: used, Summary: quota.Summary(g.Organization, used)}
	}
	return over, err
}

func setLicenseCompliant(org *v1alpha1.Organization, over []quota.Violation) {
	limits := usage.Violations(org.Status.Usage, org.Status.Limits)
	parts := make([]string, 0, len(limits)+len(over))
	for _, v := range limits {
		parts = append(parts, v.String())
	}
	for _, v := range over {
		parts = append(parts, v.String())
	}
	if len(parts) == 0 {
		set(&org.Status.Conditions, org.Generation, v1alpha1.ConditionLicenseCompliant, metav1.ConditionTrue,
			v1alpha1.ReasonWithinLimits, fmt.Sprintf("Usage fits the %s plan", org.Status.Plan))
		return
	}
	set(&org.Status.Conditions, org.Generation, v1alpha1.ConditionLicenseCompliant, metav1.ConditionFalse,
		v1alpha1.ReasonLimitsExceeded, fmt.Sprintf("Usage exceeds the %s plan (%s); nothing is deleted, new creates are refused until usage fits",
			org.Status.Plan, strings.Join(parts, "; ")))
}

// EffectiveLicense is the organization's valid license with the highest
// limits (accounts, then users, then deployments), then the latest expiry;
// nil means the free plan. Only licenses bound to the organization's uid
// count, and a license id active in another organization by an older
// License counts there only.
func EffectiveLicense(ctx context.Context, c client.Reader, org *v1alpha1.Organization, now time.Time) (*v1alpha1.License, error) {
	licenses := &v1alpha1.LicenseList{}
	if err := c.List(ctx, licenses, client.MatchingFields{index.LicenseOrganization: org.Name}); err != nil {
		return nil, fmt.Errorf("failed to list licenses: %w", err)
	}
	var best *v1alpha1.License
	for i := range licenses.Items {
		l := &licenses.Items[i]
		if l.Status.OrganizationUID != string(org.UID) || !usable(l, now) || (best != nil && !better(l, best)) {
			continue
		}
		taken, err := activeElsewhere(ctx, c, l)
		if err != nil {
			return nil, err
		}
		if !taken {
			best = l
		}
	}
	return best, nil
}

// activeElsewhere says whether l's license id is bound to another
// organization by a License created before l (by name when created in the
// same second): one license id is active in one organization only.
func activeElsewhere(ctx context.Context, c client.Reader, l *v1alpha1.License) (bool, error) {
	same := &v1alpha1.LicenseList{}
	if err := c.List(ctx, same, client.MatchingFields{index.LicenseID: l.Status.LicenseID}); err != nil {
		return false, fmt.Errorf("failed to list licenses by id: %w", err)
	}
	for _, o := range same.Items {
		if o.Name == l.Name || o.Spec.Organization == "" || o.Status.OrganizationUID == "" || o.Status.OrganizationUID == l.Status.OrganizationUID {
			continue
		}
		if firstOf(&o, l) {
			return true, nil
		}
	}
	return false, nil
}

// firstOf says whether a was created before b, by name on a tie.
func firstOf(a, b *v1alpha1.License) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

func usable(l *v1alpha1.License, now time.Time) bool {
	s := l.Status
	return s.Phase == v1alpha1.LicenseValid && s.ObservedGeneration == l.Generation && s.Limits != nil &&
		s.ExpiresAt != nil && now.Before(s.ExpiresAt.Time) && (s.NotBefore == nil || !now.Before(s.NotBefore.Time))
}

func better(a, b *v1alpha1.License) bool {
	la, lb := a.Status.Limits, b.Status.Limits
	for _, pair := range [][2]int64{{la.Accounts, lb.Accounts}, {la.Users, lb.Users}, {la.Deployments, lb.Deployments}} {
		if pair[0] != pair[1] {
			return pair[0] > pair[1]
		}
	}
	return a.Status.ExpiresAt.After(b.Status.ExpiresAt.Time)
}

func usageSummary(u *v1alpha1.Usage, l *v1alpha1.Limits) string {
	if u == nil || l == nil {
		return ""
	}
	return fmt.Sprintf("%d/%d accounts, %d/%d users, %d/%d deployments",
		u.Accounts, l.Accounts, u.Users, l.Users, u.Deployments, l.Deployments)
}
