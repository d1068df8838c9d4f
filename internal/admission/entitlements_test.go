package admission

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/plan"
)

// Linking an SSO organization is the first entitled feature: the plan must
// have "sso", on create (the free plan's) and when the link changes.
func TestSSONeedsItsEntitlement(t *testing.T) {
	linked := func(id string) *v1alpha1.Organization {
		o := &v1alpha1.Organization{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
		if id != "" {
			o.Spec.Auth0 = &v1alpha1.Auth0{ID: id}
		}
		return o
	}
	sso := &v1alpha1.Plan{Type: "team", Entitlements: []string{"audit", v1alpha1.EntitlementSSO}}
	none := &v1alpha1.Plan{Type: "free", Entitlements: []string{"audit"}}
	for name, tc := range map[string]struct {
		o, old  *v1alpha1.Organization
		p       *v1alpha1.Plan
		refused bool
	}{
		"create without a link":             {linked(""), nil, none, false},
		"create linked, free plan without":  {linked("org_1"), nil, none, true},
		"create linked, plan with sso":      {linked("org_1"), nil, sso, false},
		"link added, plan without":          {linked("org_1"), linked(""), none, true},
		"link changed, plan without":        {linked("org_2"), linked("org_1"), none, true},
		"link kept after the plan lost sso": {linked("org_1"), linked("org_1"), none, false},
		"link removed, plan without":        {linked(""), linked("org_1"), none, false},
		"link added, plan with sso":         {linked("org_1"), linked(""), sso, false},
	} {
		err := (&OrganizationValidator{Plan: plan.Settings{}}).checkSSO(tc.o, tc.old, tc.p)
		if tc.refused != (err != nil) {
			t.Errorf("%s: err %v, refused %v", name, err, tc.refused)
		}
		if err != nil && !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v is not Forbidden", name, err)
		}
	}
}
