package v1alpha1

import "testing"

func TestUserObjectName(t *testing.T) {
	tests := map[string]struct {
		username, want string
	}{
		"valid object name is kept":  {"ci-bot", "ci-bot"},
		"email becomes local-at-dom": {"alice@acme.example", "alice-at-acme.example"},
		"capitals get a hash":        {"Alice@Acme.example", "alice-at-acme.example-cc430d07"},
		"system user gets a hash":    {"system:serviceaccount:ci:deployer", "system-serviceaccount-ci-deployer-179592d3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := UserObjectName(tc.username); got != tc.want {
				t.Errorf("UserObjectName(%q) = %q, want %q", tc.username, got, tc.want)
			}
		})
	}
	if UserObjectName("Alice@Acme.example") == UserObjectName("alice@acme.example") {
		t.Error("usernames differing in case map to the same object")
	}
}
