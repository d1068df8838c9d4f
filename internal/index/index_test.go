package index

import (
	"testing"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// A user named like a group's key, or a service account's username, never
// shares an index key with the group or with another kind of subject.
func TestSubjectKeysOfDistinctIdentitiesNeverCollide(t *testing.T) {
	members := []v1alpha1.Member{
		{Kind: v1alpha1.SubjectGroup, Name: "admins"},
		{Kind: v1alpha1.SubjectUser, Name: "group:admins"},
		{Kind: v1alpha1.SubjectUser, Name: "admins"},
		{Kind: v1alpha1.SubjectGroup, Name: "user:admins"},
		{Kind: v1alpha1.SubjectServiceAccount, Namespace: "ci", Name: "deployer"},
		{Kind: v1alpha1.SubjectUser, Name: "ci:deployer"},
		{Kind: v1alpha1.SubjectGroup, Name: "system:serviceaccount:ci:deployer"},
	}
	seen := map[string]v1alpha1.Member{}
	for _, m := range members {
		key := SubjectKey(m)
		if prev, ok := seen[key]; ok {
			t.Errorf("%s %q and %s %q share the index key %q", prev.Kind, prev.Name, m.Kind, m.Name, key)
		}
		seen[key] = m
	}
}

// The keys the REST API looks a caller up by are the keys members get.
func TestSubjectKeyOfACallerMatchesTheirMembership(t *testing.T) {
	tests := map[string]struct {
		member v1alpha1.Member
		key    string
	}{
		"user":            {v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: "alice@x.io"}, UserKey("alice@x.io")},
		"group":           {v1alpha1.Member{Kind: v1alpha1.SubjectGroup, Name: "devs"}, GroupKey("devs")},
		"service account": {v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: "ci", Name: "bot"}, UserKey("system:serviceaccount:ci:bot")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := SubjectKey(tc.member); got != tc.key {
				t.Errorf("SubjectKey = %q, want %q", got, tc.key)
			}
		})
	}
}

func TestRoleOf(t *testing.T) {
	org := &v1alpha1.Organization{Spec: v1alpha1.OrganizationSpec{Members: []v1alpha1.Member{
		{Kind: v1alpha1.SubjectUser, Name: "ann", Role: v1alpha1.RoleViewer},
		{Kind: v1alpha1.SubjectGroup, Name: "staff", Role: v1alpha1.RoleMember},
		{Kind: v1alpha1.SubjectGroup, Name: "owners", Role: v1alpha1.RoleAdmin},
		{Kind: v1alpha1.SubjectServiceAccount, Namespace: "ci", Name: "bot", Role: v1alpha1.RoleMember},
	}}}
	for _, tc := range []struct {
		user   string
		groups []string
		want   v1alpha1.Role
	}{
		{"ann", nil, v1alpha1.RoleViewer},
		{"ann", []string{"staff"}, v1alpha1.RoleMember},
		{"ann", []string{"owners", "staff"}, v1alpha1.RoleAdmin},
		{"bob", []string{"staff"}, v1alpha1.RoleMember},
		{"system:serviceaccount:ci:bot", nil, v1alpha1.RoleMember},
		{"group:owners", nil, ""},
		{"eve", []string{"user:ann"}, ""},
	} {
		if got := RoleOf(org, CallerKeys(tc.user, tc.groups)); got != tc.want {
			t.Errorf("RoleOf(%s %v) = %q, want %q", tc.user, tc.groups, got, tc.want)
		}
	}
}
