package admission

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

func TestUserName(t *testing.T) {
	tests := map[string]struct {
		name, generateName, username string
		ok                           bool
	}{
		"the derived name":                    {name: v1alpha1.UserObjectName("alice@acme.example"), username: "alice@acme.example", ok: true},
		"a service account's derived name":    {name: v1alpha1.UserObjectName("system:serviceaccount:ci:deployer"), username: "system:serviceaccount:ci:deployer", ok: true},
		"the old name, without the hash":      {name: "alice-at-acme.example", username: "alice@acme.example"},
		"another user's derived name":         {name: v1alpha1.UserObjectName("bob@globex.example"), username: "alice@acme.example"},
		"the derived name in another case":    {name: v1alpha1.UserObjectName("Alice@acme.example"), username: "alice@acme.example"},
		"a made-up name":                      {name: "alice", username: "alice@acme.example"},
		"a generated name":                    {generateName: "alice-", username: "alice@acme.example"},
		"no username (the schema refuses it)": {name: "anything", ok: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := &v1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: tc.name, GenerateName: tc.generateName},
				Spec: v1alpha1.UserSpec{Username: tc.username}}
			_, err := UserValidator{}.ValidateCreate(context.Background(), u)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("got %v, want Invalid", err)
			}
			want := `metadata.name: Invalid value: "` + tc.name + tc.generateName + `": a User is named after its username: ` +
				`the User of "` + tc.username + `" must be named "` + v1alpha1.UserObjectName(tc.username) + `"`
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message:\n%s\nwant it to contain:\n%s", err, want)
			}
		})
	}
	old := &v1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "alice-at-acme.example"}, Spec: v1alpha1.UserSpec{Username: "alice@acme.example"}}
	if _, err := (UserValidator{}).ValidateUpdate(context.Background(), old, old); err != nil {
		t.Errorf("an update of a User created before the rule was refused: %v", err)
	}
	if _, err := (UserValidator{}).ValidateDelete(context.Background(), old); err != nil {
		t.Errorf("the delete of a User created before the rule was refused: %v", err)
	}
}
