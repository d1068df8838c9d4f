package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestUserObjectName(t *testing.T) {
	tests := map[string]struct {
		username, want string
	}{
		"plain name gets a hash":     {"ci-bot", "ci-bot-"},
		"email becomes local-at-dom": {"alice@acme.example", "alice-at-acme.example-"},
		"capitals are lowercased":    {"Alice@Acme.example", "alice-at-acme.example-"},
		"system user is made a name": {"system:serviceaccount:ci:deployer", "system-serviceaccount-ci-deployer-"},
		"only at-signs":              {"@@", "at--at-"},
		"only punctuation":           {"::", "u-"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := UserObjectName(tc.username)
			if !strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+16 {
				t.Errorf("UserObjectName(%q) = %q, want %q and 16 hex digits", tc.username, got, tc.want)
			}
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("UserObjectName(%q) = %q is not an object name: %v", tc.username, got, errs)
			}
		})
	}
}

// Distinct usernames whose readable parts are equal get distinct objects.
func TestTwoIdentitiesNeverShareAUserObject(t *testing.T) {
	pairs := [][2]string{
		{"alice@x.io", "alice-at-x.io"},
		{"Alice@Acme.example", "alice@acme.example"},
		{"bob_smith", "bob-smith"},
		{"system:serviceaccount:ci:deployer", "system-serviceaccount-ci-deployer"},
		{"group:admins", "group-admins"},
		{strings.Repeat("a", 220) + "x", strings.Repeat("a", 220) + "y"},
	}
	for _, p := range pairs {
		if UserObjectName(p[0]) == UserObjectName(p[1]) {
			t.Errorf("%q and %q map to the same User object %s", p[0], p[1], UserObjectName(p[0]))
		}
	}
}
