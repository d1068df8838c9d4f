package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

var (
	usageGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orgplane_organization_usage",
		Help: "Accounts, users and deployments an organization has.",
	}, []string{"organization", "resource"})
	limitGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orgplane_organization_limit",
		Help: "Accounts, users and deployments an organization's plan allows.",
	}, []string{"organization", "resource"})
	expiryGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orgplane_license_expiry_timestamp_seconds",
		Help: "When an active License assigned to an organization expires (Unix time); its grace period starts then.",
	}, []string{"license", "organization"})
	planPhaseGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orgplane_organization_plan_phase",
		Help: "1 for the phase an organization's plan is in (Free, Active, Grace, Restricted), per organization.",
	}, []string{"organization", "phase"})
	transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgplane_license_phase_transitions_total",
		Help: "License phase changes (Active, Grace, Restricted, Expired, Superseded, Revoked, ...), by the phase entered.",
	}, []string{"phase"})
)

func init() {
	metrics.Registry.MustRegister(usageGauge, limitGauge, expiryGauge, planPhaseGauge, transitions)
}

// planPhases are the phases a plan can be in, so that one organization's
// other series are deleted by name: DeletePartialMatch visits every series
// of every organization, which made each organization's reconcile cost
// grow with their number.
var planPhases = []v1alpha1.PlanPhase{v1alpha1.PlanPhaseFree, v1alpha1.PlanPhaseActive, v1alpha1.PlanPhaseGrace, v1alpha1.PlanPhaseRestricted}

// recordPlanPhase exports the phase of an organization's plan.
func recordPlanPhase(org string, p *v1alpha1.Plan) {
	for _, phase := range planPhases {
		if p == nil || phase != p.Phase {
			planPhaseGauge.DeleteLabelValues(org, string(phase))
		}
	}
	if p != nil {
		planPhaseGauge.WithLabelValues(org, string(p.Phase)).Set(1)
	}
}

// expiryOrganizations remembers, per License, the organization its expiry
// series was last exported for: the one series to delete when that
// changes, found without visiting every License's series.
var expiryOrganizations sync.Map // license name → organization

// recordExpiry exports when an active, assigned license expires, and drops
// the series of any other.
func recordExpiry(name string, lic *v1alpha1.License) {
	org := ""
	if lic != nil && lic.Status.Phase == v1alpha1.LicenseActive && lic.Status.ExpiresAt != nil {
		org = lic.Status.Organization
	}
	if last, ok := expiryOrganizations.Load(name); ok && last.(string) != org {
		expiryGauge.DeleteLabelValues(name, last.(string))
	}
	if org == "" {
		expiryOrganizations.Delete(name)
		return
	}
	expiryOrganizations.Store(name, org)
	expiryGauge.WithLabelValues(name, org).Set(float64(lic.Status.ExpiresAt.Unix()))
}

// recordUsage exports an organization's usage and limits.
func recordUsage(org string, u *v1alpha1.Usage, l *v1alpha1.Limits) {
	if u == nil || l == nil {
		return
	}
	for resource, pair := range map[string][2]int64{
		"accounts":    {u.Accounts, l.Accounts},
		"users":       {u.Users, l.Users},
		"deployments": {u.Deployments, l.Deployments},
	} {
		usageGauge.WithLabelValues(org, resource).Set(float64(pair[0]))
		limitGauge.WithLabelValues(org, resource).Set(float64(pair[1]))
	}
}

// forgetUsage drops a deleted organization's series.
func forgetUsage(org string) {
	usageGauge.DeletePartialMatch(prometheus.Labels{"organization": org})
	limitGauge.DeletePartialMatch(prometheus.Labels{"organization": org})
	planPhaseGauge.DeletePartialMatch(prometheus.Labels{"organization": org})
}
