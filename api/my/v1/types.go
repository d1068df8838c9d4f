package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group and version of the views.
var GroupVersion = schema.GroupVersion{Group: "my.orgplane.io", Version: "v1"}

// AddToScheme registers the views with a scheme, under v1 and as the
// internal version (the views have one version: nothing converts).
func AddToScheme(scheme *runtime.Scheme) error {
	for _, gv := range []schema.GroupVersion{GroupVersion, {Group: GroupVersion.Group, Version: runtime.APIVersionInternal}} {
		scheme.AddKnownTypes(gv, &Organization{}, &OrganizationList{}, &Account{}, &AccountList{})
	}
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}

// The kinds of the views.
const (
	OrganizationKind = "Organization"
	AccountKind      = "Account"
)

// Roles a caller holds, as the views show them.
const (
	// RoleAccount: the caller is a member of some of the organization's
	// accounts only, not of the organization.
	RoleAccount = "account"
	// RolePlatformAdmin: the caller is a platform admin and no member.
	RolePlatformAdmin = "platform-admin"
)

// Organization is an organization the caller belongs to (directly, through
// a group, or as a member of one of its accounts), as the caller sees it.
// Platform admins see every organization. Read-only: change organizations
// through orgplane.io/v1alpha1 or the REST API.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type Organization struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata: the name, uid, labels and creation time of
	// the organization; resourceVersion changes when the organization or
	// one of its accounts changes.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   OrganizationSpec   `json:"spec,omitempty"`
	Status OrganizationStatus `json:"status,omitempty"`
}

// OrganizationSpec is what the organization's admins declared.
type OrganizationSpec struct {
	// DisplayName is the human name of the organization.
	DisplayName string `json:"displayName,omitempty"`
	// Description of the organization.
	Description string `json:"description,omitempty"`
	// Suspended organizations keep their objects but refuse new work.
	Suspended bool `json:"suspended,omitempty"`
}

// OrganizationStatus is the organization as orgplane observed it, and the
// caller's place in it. Plan, phase, renewBy, seats and usage are shown to
// the organization's members and platform admins, not to a caller who is a
// member of some of its accounts only.
type OrganizationStatus struct {
	// Role is the caller's role: admin, member or viewer of the
	// organization; "account" when they are a member of some of its
	// accounts only; "platform-admin" when they are a platform admin and no
	// member.
	Role string `json:"role"`
	// Plan is the plan in force: free, or the license's plan type.
	Plan string `json:"plan,omitempty"`
	// Phase is where the plan is in its license's lifecycle: Free, Active,
	// Grace or Restricted.
	Phase string `json:"phase,omitempty"`
	// RenewBy is when the license in force expires.
	// +optional
	RenewBy *metav1.Time `json:"renewBy,omitempty"`
	// Seats is what the organization uses of its plan's users limit, e.g.
	// "4/5 (1 pending)".
	Seats string `json:"seats,omitempty"`
	// Usage is what the organization uses of its plan's limits.
	Usage string `json:"usage,omitempty"`
	// Accounts is how many of the organization's accounts the caller sees.
	Accounts int32 `json:"accounts"`
	// Namespace is the organization's namespace.
	Namespace string `json:"namespace,omitempty"`
	// Ready says whether orgplane has provisioned everything the
	// organization declares: True, False or Unknown.
	Ready string `json:"ready,omitempty"`
}

// OrganizationList is the caller's organizations.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type OrganizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Organization `json:"items"`
}

// Account is an account (project) the caller may use, as the caller sees
// it: every account of an organization they are a member of, and each
// account they are a member of. Its name is <organization>.<account>.
// Read-only.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type Account struct {
	metav1.TypeMeta `json:",inline"`
	// Standard object metadata. The name is <organization>.<account>; uid,
	// labels, resourceVersion and creation time are the account's.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AccountSpec   `json:"spec,omitempty"`
	Status AccountStatus `json:"status,omitempty"`
}

// AccountSpec is what the organization's admins declared.
type AccountSpec struct {
	// DisplayName is the human name of the account.
	DisplayName string `json:"displayName,omitempty"`
	// Description of the account.
	Description string `json:"description,omitempty"`
}

// AccountStatus is the account as orgplane observed it, and the caller's
// place in it.
type AccountStatus struct {
	// Organization the account belongs to.
	Organization string `json:"organization"`
	// Account is the account's own name in its organization.
	Account string `json:"account"`
	// Workspace is the account's workspace namespace: where the caller's
	// workloads go (kubectl config set-context --current --namespace=...).
	Workspace string `json:"workspace,omitempty"`
	// Role is the caller's role in the workspace: admin, member or viewer
	// (the higher of their organization and account roles), or
	// "platform-admin".
	Role string `json:"role"`
	// Quota is what the workspace uses of its quota, e.g. "500m/2 cpu".
	Quota string `json:"quota,omitempty"`
	// Ready says whether orgplane has provisioned the account: True, False
	// or Unknown.
	Ready string `json:"ready,omitempty"`
}

// AccountList is the caller's accounts.
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
type AccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Account `json:"items"`
}
