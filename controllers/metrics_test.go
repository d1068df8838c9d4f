package controllers

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

func TestRecordExpiryExportsOnlyValidAssignedLicenses(t *testing.T) {
	expires := metav1.NewTime(time.Unix(1_900_000_000, 0))
	lic := func(phase v1alpha1.LicensePhase, org string) *v1alpha1.License {
		return &v1alpha1.License{Status: v1alpha1.LicenseStatus{Phase: phase, Organization: org, ExpiresAt: &expires}}
	}
	tests := map[string]struct {
		lic  *v1alpha1.License
		want int
	}{
		"active and assigned": {lic(v1alpha1.LicenseActive, "acme"), 1},
		"active, unassigned":  {lic(v1alpha1.LicenseActive, ""), 0},
		"expired":             {lic(v1alpha1.LicenseExpired, "acme"), 0},
		"deleted (no object)": {nil, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			recordExpiry("valid-first", lic(v1alpha1.LicenseActive, "acme"))
			recordExpiry("valid-first", tc.lic)
			if got := testutil.CollectAndCount(expiryGauge, "orgplane_license_expiry_timestamp_seconds"); got != tc.want {
				t.Fatalf("%d series, want %d", got, tc.want)
			}
			if tc.want == 1 && testutil.ToFloat64(expiryGauge.WithLabelValues("valid-first", "acme")) != 1_900_000_000 {
				t.Fatal("the series does not hold the expiry time")
			}
		})
	}
}
