package rest

import "testing"

// TestAdmissionPrefix: a denial keeps its reason and loses the name of the
// check that refused; other messages are left alone.
func TestAdmissionPrefix(t *testing.T) {
	for in, want := range map[string]string{
		`admission webhook "accounts.orgplane.io" denied the request: accounts.orgplane.io is forbidden: ` +
			`organization globex has reached its limit of 3 accounts`: "organization globex has reached its limit of 3 accounts",
		`organizations.orgplane.io "acme" is forbidden: ValidatingAdmissionPolicy 'orgplane-suspended' with binding ` +
			`'orgplane-suspended' denied request: organization acme is suspended`: "organization acme is suspended",
		`admission webhook "organizations.orgplane.io" denied the request: the display name is taken`:     "the display name is taken",
		`Organization.orgplane.io "x" is invalid: spec.members: an organization needs at least one admin`: `Organization.orgplane.io "x" is invalid: spec.members: an organization needs at least one admin`,
		`organization acme is suspended`: `organization acme is suspended`,
	} {
		if got := admissionPrefix.ReplaceAllString(in, ""); got != want {
			t.Errorf("%q\n became %q\n  not    %q", in, got, want)
		}
	}
}
