package tenancy

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

func TestMayCreate(t *testing.T) {
	tests := map[string]struct {
		groups, userGroups []string
		allowed            bool
	}{
		"no setting: every authenticated user": {nil, []string{"system:authenticated"}, true},
		"in a creator group":                   {[]string{"trial", "staff"}, []string{"system:authenticated", "staff"}, true},
		"in no creator group":                  {[]string{"trial", "staff"}, []string{"system:authenticated"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := (&Creators{Groups: tc.groups}).MayCreate(&user.DefaultInfo{Name: "eve", Groups: tc.userGroups})
			if tc.allowed != (err == nil) || (err != nil && !apierrors.IsForbidden(err)) {
				t.Errorf("MayCreate = %v, want allowed %v", err, tc.allowed)
			}
		})
	}
}

func TestIsPlatformAdmin(t *testing.T) {
	asked := 0
	a := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		asked++
		return authorizer.DecisionNoOpinion, "", nil
	})
	admins := &PlatformAdmins{authz: a}
	root := &user.DefaultInfo{Name: "root", Groups: []string{user.SystemPrivilegedGroup}}
	if ok, _ := admins.Is(context.Background(), root); !ok || asked != 0 {
		t.Errorf("system:masters: %v after %d questions, want true without asking", ok, asked)
	}
	if ok, _ := admins.Is(context.Background(), &user.DefaultInfo{Name: "eve"}); ok {
		t.Error("a user the authorizer does not allow is a platform admin")
	}
}
