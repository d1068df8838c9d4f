package controllers

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/quota"
	"github.com/orgplane/orgplane/internal/usage"
)

// setStatus records the plan, limits, usage and the conditions, and
// returns when the plan next changes by itself.
func (r *OrganizationReconciler) setStatus(ctx context.Context, org *v1alpha1.Organization, err error) *metav1.Time {
	inv, uerr := usage.Take(ctx, r.Client, org)
	if uerr != nil && err == nil {
		err = uerr
	}
	now := time.Now()
	keys, kerr := keyReader{Reader: r.Client, Verifier: r.Verifier}.organizationKeys(ctx, org)
	if kerr != nil {
		// Keep the plan recorded: never a moment on the free plan
		// because a read failed.
		err = cmp.Or(err, kerr)
	} else {
		r.setPlan(org, r.Plan.Decide(keys, now))
	}
	p := org.Status.Plan
	if p == nil {
		free := r.Plan.Free()
		p = &free
	}
	org.Status.Usage = inv.Usage()
	org.Status.PeakUsage = peak(org.Status.PeakUsage, org.Status.Usage, now)
	org.Status.Seats = usage.Seats(inv, p.Limits.Users)
	org.Status.UsageSummary = usageSummary(org.Status.Usage, &p.Limits)
	recordUsage(org.Name, org.Status.Usage, &p.Limits)
	org.Status.ObservedGeneration = org.Generation
	over, qerr := r.setQuota(ctx, org, p.Guardrails.Inherit(nil))
	if qerr != nil && err == nil {
		err = qerr
	}
	setLicenseCompliant(org, p, over)
	setRestricted(org)
	setKstatusConditions(&org.Status.Conditions, org.Generation, err, "Namespace, RBAC and users are provisioned")
	return p.NextChangeAt
}

// setPlan records p, the plan internal/plan decided, and announces a
// change of phase or license.
func (r *OrganizationReconciler) setPlan(org *v1alpha1.Organization, p v1alpha1.Plan) {
	old := org.Status.Plan
	org.Status.Plan = &p
	recordPlanPhase(org.Name, &p)
	// The first plan decided is the organization's start, not a change.
	if old == nil || (old.Phase == p.Phase && old.License == p.License) {
		return
	}
	kind, msg := corev1.EventTypeNormal, fmt.Sprintf("The %s plan is %s", p.Type, p.Phase)
	if p.License != "" {
		msg += " by License " + p.License
	}
	if p.Phase == v1alpha1.PlanPhaseGrace || p.Phase == v1alpha1.PlanPhaseRestricted {
		kind = corev1.EventTypeWarning
	}
	if old != nil && old.License != "" && old.License != p.License {
		msg += fmt.Sprintf(" (License %s no longer applies)", old.License)
	}
	r.Recorder.Eventf(org, nil, kind, "Plan"+string(p.Phase), "Plan", "%s", msg)
}

// setRestricted sets the Restricted condition, which kubectl wait can use:
// True while the plan's license is past its grace period.
func setRestricted(org *v1alpha1.Organization) {
	p := org.Status.Plan
	if p == nil || p.Phase != v1alpha1.PlanPhaseRestricted {
		phase := v1alpha1.PlanPhaseFree
		if p != nil {
			phase = p.Phase
		}
		set(&org.Status.Conditions, org.Generation, v1alpha1.ConditionRestricted, metav1.ConditionFalse, string(phase),
			"New accounts, members and Deployments are admitted within the plan's limits")
		return
	}
	set(&org.Status.Conditions, org.Generation, v1alpha1.ConditionRestricted, metav1.ConditionTrue, string(p.Phase), fmt.Sprintf(
		"License %s expired at %s and its grace period ended at %s: no new accounts, members or Deployments until a renewed key is applied; at %s the organization takes its next license or the free plan",
		p.License, p.ExpiresAt.UTC().Format(time.RFC3339), p.GraceEndsAt.UTC().Format(time.RFC3339), p.RestrictedEndsAt.UTC().Format(time.RFC3339)))
}

// peak is the highest usage this calendar month (UTC), u included.
func peak(p *v1alpha1.PeakUsage, u *v1alpha1.Usage, now time.Time) *v1alpha1.PeakUsage {
	y, m, _ := now.UTC().Date()
	month := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	if p == nil || p.Since.Time.Before(month) {
		p = &v1alpha1.PeakUsage{Since: metav1.NewTime(month)}
	} else {
		p = p.DeepCopy()
	}
	if u != nil {
		p.Accounts, p.Users, p.Deployments = max(p.Accounts, u.Accounts), max(p.Users, u.Users), max(p.Deployments, u.Deployments)
	}
	return p
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

func setLicenseCompliant(org *v1alpha1.Organization, p *v1alpha1.Plan, over []quota.Violation) {
	limits := usage.Violations(org.Status.Usage, &p.Limits)
	parts := make([]string, 0, len(limits)+len(over))
	for _, v := range limits {
		parts = append(parts, v.String())
	}
	for _, v := range over {
		parts = append(parts, v.String())
	}
	if len(parts) == 0 {
		set(&org.Status.Conditions, org.Generation, v1alpha1.ConditionLicenseCompliant, metav1.ConditionTrue,
			v1alpha1.ReasonWithinLimits, fmt.Sprintf("Usage fits the %s plan", p.Type))
		return
	}
	set(&org.Status.Conditions, org.Generation, v1alpha1.ConditionLicenseCompliant, metav1.ConditionFalse,
		v1alpha1.ReasonLimitsExceeded, fmt.Sprintf("Usage exceeds the %s plan (%s); nothing is deleted, new creates are refused until usage fits",
			p.Type, strings.Join(parts, "; ")))
}

func usageSummary(u *v1alpha1.Usage, l *v1alpha1.Limits) string {
	if u == nil || l == nil {
		return ""
	}
	return fmt.Sprintf("%d/%d accounts, %d/%d users, %d/%d deployments",
		u.Accounts, l.Accounts, u.Users, l.Users, u.Deployments, l.Deployments)
}
