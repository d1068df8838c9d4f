package controllers

import (
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

// recordPlanPhase exports the phase of an organization's plan.
func recordPlanPhase(org string, p *v1alpha1.Plan) {
	planPhaseGauge.DeletePartialMatch(prometheus.Labels{"organization": org})
	if p != nil {
		planPhaseGauge.WithLabelValues(org, string(p.Phase)).Set(1)
	}
}

// recordExpiry exports when an active, assigned license expires, and drops
// the series of any other.
func recordExpiry(name string, lic *v1alpha1.License) {
	expiryGauge.DeletePartialMatch(prometheus.Labels{"license": name})
	if lic == nil || lic.Status.Phase != v1alpha1.LicenseActive || lic.Status.Organization == "" || lic.Status.ExpiresAt == nil {
		return
	}
	expiryGauge.WithLabelValues(name, lic.Status.Organization).Set(float64(lic.Status.ExpiresAt.Unix()))
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
