package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Parameter is a named setting of an organization or account. A sensitive
// value is never written in the spec: it is read from a Secret in the
// organization's namespace through secretKeyRef.
// +kubebuilder:validation:XValidation:rule="!(has(self.value) && has(self.secretKeyRef))",message="set either value or secretKeyRef, not both"
// +kubebuilder:validation:XValidation:rule="!(has(self.sensitive) && self.sensitive && has(self.value))",message="a sensitive parameter must not carry its value in the spec: put it in a Secret and reference it with secretKeyRef"
type Parameter struct {
	// Name of the parameter.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Value of a non-sensitive parameter.
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Value *string `json:"value,omitempty"`

	// SecretKeyRef points at the key of a Secret, in the organization's
	// namespace, that holds the value.
	// +optional
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`

	// Credential marks a parameter that is a credential for another system.
	// +optional
	Credential bool `json:"credential,omitempty"`

	// Sensitive parameters are shown only to organization admins.
	// +optional
	Sensitive bool `json:"sensitive,omitempty"`
}

// SecretKeySelector selects a key of a Secret in the organization's namespace.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// Limits are the most of each resource an organization may have.
type Limits struct {
	// Accounts (projects) in the organization.
	// +kubebuilder:validation:Minimum=0
	Accounts int64 `json:"accounts"`
	// Users is the number of members of the organization.
	// +kubebuilder:validation:Minimum=0
	Users int64 `json:"users"`
	// Deployments (apps/v1) across the organization's account namespaces.
	// +kubebuilder:validation:Minimum=0
	Deployments int64 `json:"deployments"`
	// InvitationsPerHour bounds the invitations the organization sends in
	// an hour; 0 means none may be sent.
	// +kubebuilder:validation:Minimum=0
	// +optional
	InvitationsPerHour int64 `json:"invitationsPerHour,omitempty"`
}

// Usage counts what an organization has.
type Usage struct {
	// Accounts in the organization.
	Accounts int64 `json:"accounts"`
	// Users is the number of members of the organization.
	Users int64 `json:"users"`
	// Deployments across the organization's account namespaces.
	Deployments int64 `json:"deployments"`
}

// Condition types and reasons shared by every orgplane kind. They follow
// kstatus: Ready is the summary; Reconciling and Stalled are abnormal-true.
const (
	// ConditionReady is True when everything the object asks for exists.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the controller is still working.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a person to act.
	ConditionStalled = "Stalled"

	// ReasonSucceeded means the object was reconciled.
	ReasonSucceeded = "Succeeded"
	// ReasonProgressing means reconciliation is under way.
	ReasonProgressing = "Progressing"
	// ReasonFailed means the last attempt failed and will be retried.
	ReasonFailed = "Failed"
	// ReasonDeleting means the object is being deleted.
	ReasonDeleting = "Deleting"
	// ReasonNamespaceConflict means a namespace of that name exists and
	// orgplane did not create it, so it will not be adopted.
	ReasonNamespaceConflict = "NamespaceConflict"
	// ConditionLicenseCompliant is True when the organization's usage fits
	// its plan's limits.
	ConditionLicenseCompliant = "LicenseCompliant"
	// ConditionRestricted is True while the organization's license is past
	// its grace period: nothing new is admitted (its reason is the plan's
	// phase).
	ConditionRestricted = "Restricted"
	// ReasonWithinLimits means usage fits the limits.
	ReasonWithinLimits = "WithinLimits"
	// ReasonLimitsExceeded means usage exceeds a limit; new creates are
	// refused until it fits again. Nothing is deleted.
	ReasonLimitsExceeded = "LimitsExceeded"
	// ReasonSuspended means the organization is suspended.
	ReasonSuspended = "Suspended"
	// ReasonOrganizationNotFound means an account's namespace belongs to no
	// organization.
	ReasonOrganizationNotFound = "OrganizationNotFound"
)

// Labels and annotations set by orgplane.
const (
	// LabelOrganization names the organization an object belongs to.
	LabelOrganization = "orgplane.io/organization"
	// LabelAccount names the account an object belongs to.
	LabelAccount = "orgplane.io/account"
	// LabelManagedBy marks objects orgplane created and owns.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on orgplane's objects.
	ManagedByValue = "orgplane"
	// Finalizer holds an object until orgplane has cleaned up after it.
	// Only the manager may remove a finalizer starting with FinalizerPrefix.
	Finalizer = "orgplane.io/cleanup"
	// FinalizerPrefix starts every finalizer orgplane owns.
	FinalizerPrefix = "orgplane.io/"
	// AnnotationCreatedBy records, on an Organization, the username that
	// created it. Admission sets it from the request (the REST API's
	// caller when the manager writes for the REST API) and refuses any
	// change to it.
	AnnotationCreatedBy = "orgplane.io/created-by"
	// AnnotationKeyRotation, on an account's API-key Secret, records which
	// spec.keyRotation its keys answer.
	AnnotationKeyRotation = "orgplane.io/key-rotation"
	// LabelAccountUID marks a workspace namespace with the UID of the
	// Account it was created for: a namespace of that name is never
	// adopted, and a workspace whose Account is gone is found and removed.
	LabelAccountUID = "orgplane.io/account-uid"
	// LabelSuspended is "true" on the namespace and the workspaces of a
	// suspended organization; the ValidatingAdmissionPolicy
	// orgplane-suspension freezes what carries it.
	LabelSuspended = "orgplane.io/suspended"
)

// QuotaUsage is a quota and what is used of it, as the quota controller
// reports it.
type QuotaUsage struct {
	// Hard is the quota.
	// +optional
	Hard corev1.ResourceList `json:"hard,omitempty"`

	// Used is what is used of each resource of hard.
	// +optional
	Used corev1.ResourceList `json:"used,omitempty"`

	// Summary reads like "500m/2 cpu, 3/10 pods", for kubectl get.
	// +optional
	Summary string `json:"summary,omitempty"`
}
