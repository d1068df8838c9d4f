package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/license"
	"github.com/orgplane/orgplane/internal/plan"
)

// A key orgplane cannot verify has no claims and so no expiry: its status
// must say why, not panic the reconciler.
func TestSetLicenseStatusOfAKeyThatCannotBeVerified(t *testing.T) {
	for name, verr := range map[string]error{
		"tampered":  license.ErrSignature,
		"untrusted": license.ErrUnknownKeyID,
		"malformed": license.ErrMalformed,
	} {
		t.Run(name, func(t *testing.T) {
			lic := &v1alpha1.License{}
			lic.Generation = 1
			(&LicenseReconciler{}).setStatus(lic, nil, plan.State{Phase: v1alpha1.LicenseInvalid}, verr)
			if lic.Status.Phase != v1alpha1.LicenseInvalid || lic.Status.Reason != verr.Error() {
				t.Errorf("phase %q reason %q", lic.Status.Phase, lic.Status.Reason)
			}
			if !meta.IsStatusConditionTrue(lic.Status.Conditions, v1alpha1.ConditionStalled) {
				t.Errorf("not Stalled: %+v", lic.Status.Conditions)
			}
		})
	}
}
