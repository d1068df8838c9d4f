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
