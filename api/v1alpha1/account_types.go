package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccountSpec is what an organization admin declares about a project.
// +kubebuilder:validation:XValidation:rule="(has(self.keyRotation) ? self.keyRotation : 0) >= (has(oldSelf.keyRotation) ? oldSelf.keyRotation : 0)",message="keyRotation can only be raised: set it above its current value to rotate the API key"
type AccountSpec struct {
	// DisplayName is the human name of the account, shown in consoles.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Description of the account.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`

	// Parameters are named settings of the account.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Parameters []Parameter `json:"parameters,omitempty"`

	// Members of this account only, with their roles there: admin, member
	// or viewer of the account's workspace, and nothing else of the
	// organization (neither its other accounts nor the Organization). They
	// count in the organization's users limit (a subject counts once,
	// however many accounts it is a member of). Only the organization's
	// admins may change them.
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +listMapKey=namespace
	// +kubebuilder:validation:MaxItems=1000
	// +optional
	Members []Member `json:"members,omitempty"`

	// KeyRotation rotates the account's API key when it is raised: the
	// current key becomes the only alternate key (still accepted) and a new
	// key is generated. Raise it again to retire the alternate.
	// +kubebuilder:validation:Minimum=0
	// +optional
	KeyRotation int64 `json:"keyRotation,omitempty"`
}

// AccountStatus is what orgplane observed and provisioned for an account.
type AccountStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Organization the account belongs to (the owner of its namespace).
	// +optional
	Organization string `json:"organization,omitempty"`

	// Namespace is the account's workspace namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// APIKeySecret is the Secret, next to the Account, holding secretKey and
	// alternateSecretKeys.
	// +optional
	APIKeySecret string `json:"apiKeySecret,omitempty"`

	// KeyRotation is the spec.keyRotation the API key in the Secret answers.
	// +optional
	KeyRotation int64 `json:"keyRotation,omitempty"`

	// Quota is the workspace's quota (ResourceQuota orgplane-quota, or its
	// share of the organization's total when the plan has only a total)
	// and what the workspace uses of it; absent when the plan has none.
	// +optional
	Quota *QuotaUsage `json:"quota,omitempty"`
}

// Account is a project inside an organization. It lives in its
// organization's namespace; orgplane gives it a workspace namespace, RoleBindings
// there for the organization's members, and an API key.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=acct;accts,categories=orgplane
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Organization",type=string,JSONPath=`.status.organization`
// +kubebuilder:printcolumn:name="Workspace",type=string,JSONPath=`.status.namespace`
// +kubebuilder:printcolumn:name="Quota",type=string,JSONPath=`.status.quota.summary`,priority=1,description="What the workspace uses of its quota, e.g. 500m/2 cpu, 3/10 pods"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || !self.metadata.name.contains('--')",optionalOldSelf=true,message="account name must not contain '--': orgplane keeps it to separate organization and account in workspace namespace names (ws-<organization>--<account>)"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 32",message="account name must be at most 32 characters of lowercase letters, digits and '-', starting and ending with a letter or digit"
type Account struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   AccountSpec   `json:"spec,omitempty"`
	Status AccountStatus `json:"status,omitempty"`
}

// AccountList is a list of Accounts.
// +kubebuilder:object:root=true
type AccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Account `json:"items"`
}

// WorkspaceName is the account's workspace namespace in organization org:
// the one its status records (an account made before the
// ws-<organization>--<account> scheme keeps its <organization>-<account>),
// or WorkspaceNamespace(org, name) for a new account.
func (a *Account) WorkspaceName(org string) string {
	if a.Status.Namespace != "" {
		return a.Status.Namespace
	}
	return WorkspaceNamespace(org, a.Name)
}

// APIKeySecretName is the name of the Secret holding the account's API keys.
func (a *Account) APIKeySecretName() string { return a.Name + "-api-key" }

// MembersWithRole returns the account's members that have the given role.
func (a *Account) MembersWithRole(role Role) []Member {
	return withRole(a.Spec.Members, role)
}
