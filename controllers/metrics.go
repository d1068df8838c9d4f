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
		Help: "When a valid License assigned to an organization expires (Unix time).",
	}, []string{"license", "organization"})
)

func init() {
	metrics.Registry.MustRegister(usageGauge, limitGauge, expiryGauge)
}

// recordExpiry exports when a valid, assigned license expires, and drops
// the series of any other.
func recordExpiry(name string, lic *v1alpha1.License) {
	expiryGauge.DeletePartialMatch(prometheus.Labels{"license": name})
	if lic == nil || lic.Status.Phase != v1alpha1.LicenseValid || lic.Status.Organization == "" || lic.Status.ExpiresAt == nil {
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
}
