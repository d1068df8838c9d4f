// Package v1alpha1 contains the orgplane.io/v1alpha1 API: Organization,
// Account, License, RevocationList and User.
// +kubebuilder:object:generate=true
// +groupName=orgplane.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the orgplane API.
	GroupVersion = schema.GroupVersion{Group: "orgplane.io", Version: "v1alpha1"}

	// SchemeBuilder registers the orgplane types with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the orgplane types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&Organization{}, &OrganizationList{},
		&Account{}, &AccountList{},
		&License{}, &LicenseList{},
		&User{}, &UserList{},
		&RevocationList{}, &RevocationListList{},
		&Invitation{}, &InvitationList{},
		&Domain{}, &DomainList{},
		&JoinRequest{}, &JoinRequestList{},
	)
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
