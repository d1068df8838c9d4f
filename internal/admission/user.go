package admission

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// +kubebuilder:webhook:path=/validate-orgplane-io-v1alpha1-user,mutating=false,failurePolicy=fail,sideEffects=None,groups=orgplane.io,resources=users,verbs=create,versions=v1alpha1,name=users.orgplane.io,admissionReviewVersions=v1,timeoutSeconds=30

// UserValidator refuses a User whose name is not the one derived from its
// username (v1alpha1.UserObjectName): orgplane reads a user's preferences
// from that object only, so one under another name would be ignored, or
// two Users would claim one username. Only creates are checked: neither
// the name nor the username can change afterwards.
type UserValidator struct{}

var _ admission.Validator[*v1alpha1.User] = &UserValidator{}

// ValidateCreate refuses a User not named UserObjectName(spec.username).
func (UserValidator) ValidateCreate(_ context.Context, u *v1alpha1.User) (admission.Warnings, error) {
	return nil, checkUserName(u)
}

// ValidateUpdate allows every update.
func (UserValidator) ValidateUpdate(context.Context, *v1alpha1.User, *v1alpha1.User) (admission.Warnings, error) {
	return nil, nil
}

// ValidateDelete allows every delete.
func (UserValidator) ValidateDelete(context.Context, *v1alpha1.User) (admission.Warnings, error) {
	return nil, nil
}

// checkUserName is the rule: a User is named after its username, as
// v1alpha1.UserObjectName derives it. The error names the expected name.
func checkUserName(u *v1alpha1.User) error {
	if u.Spec.Username == "" {
		return nil // the CRD's schema refuses an empty username, with its own message
	}
	want := v1alpha1.UserObjectName(u.Spec.Username)
	if u.Name == want {
		return nil
	}
	name := u.Name
	if name == "" {
		name = u.GenerateName
	}
	return apierrors.NewInvalid(v1alpha1.GroupVersion.WithKind("User").GroupKind(), name,
		field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), name, fmt.Sprintf(
			"a User is named after its username: the User of %q must be named %q", u.Spec.Username, want))})
}
