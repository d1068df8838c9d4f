package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LicensePhase is where a license is in its lifecycle.
// +kubebuilder:validation:Enum=Active;Grace;Restricted;Expired;NotYetValid;Superseded;Revoked;Invalid
type LicensePhase string

// License phases. A key in force moves Active → Grace → Restricted →
// Expired with the clock; a renewal makes it Superseded and a revocation
// list Revoked.
const (
	LicenseActive      LicensePhase = "Active"
	LicenseGrace       LicensePhase = "Grace"
	LicenseRestricted  LicensePhase = "Restricted"
	LicenseExpired     LicensePhase = "Expired"
	LicenseNotYetValid LicensePhase = "NotYetValid"
	LicenseSuperseded  LicensePhase = "Superseded"
	LicenseRevoked     LicensePhase = "Revoked"
	LicenseInvalid     LicensePhase = "Invalid"
)

// InForce says whether a license in this phase sets its organization's plan.
func (p LicensePhase) InForce() bool {
	return p == LicenseActive || p == LicenseGrace || p == LicenseRestricted
}

// LicenseSpec holds a signed license key and the organization it is assigned to.
type LicenseSpec struct {
	// Key is the signed license key (a JWT signed with Ed25519) issued by
	// `orgplane license issue`. It carries no secret: it is verified against
	// the public keys the manager trusts.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=16384
	Key string `json:"key"`

	// Organization the license is assigned to, by name. Unassigned licenses
	// apply to nothing. Only the organization's admins and platform admins
	// may assign a license to it.
	// +optional
	Organization string `json:"organization,omitempty"`

	// OrganizationUID is the uid of the organization the license is
	// assigned to. When set, it must be the uid of the organization named
	// in organization; when empty, orgplane binds the license to that
	// organization's uid when it first sees the assignment
	// (status.organizationUID), so an organization created later under the
	// same name never inherits it.
	// +optional
	OrganizationUID string `json:"organizationUID,omitempty"`
}

// LicenseStatus is what orgplane read from the key.
type LicenseStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase is where the license is in its lifecycle: Active, Grace,
	// Restricted, Expired, NotYetValid, Superseded (a renewal replaced it),
	// Revoked (a revocation list names it) or Invalid (the key does not
	// verify).
	// +optional
	Phase LicensePhase `json:"phase,omitempty"`

	// Reason explains the phase.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Organization is the name of the organization the license is bound
	// to, for display.
	// +optional
	Organization string `json:"organization,omitempty"`

	// OrganizationUID is the uid of the organization the license is bound
	// to: it applies to that organization only.
	// +optional
	OrganizationUID string `json:"organizationUID,omitempty"`

	// LicenseID is the id in the key.
	// +optional
	LicenseID string `json:"licenseID,omitempty"`

	// Type of license: free, trial, team, enterprise.
	// +optional
	Type string `json:"type,omitempty"`

	// Licensee the key was issued to.
	// +optional
	Licensee string `json:"licensee,omitempty"`

	// Limits the license grants.
	// +optional
	Limits *Limits `json:"limits,omitempty"`

	// Guardrails the license writes into every workspace of its
	// organization; absent means none.
	// +optional
	Guardrails *Guardrails `json:"guardrails,omitempty"`

	// IssuedAt is when the key was issued.
	// +optional
	IssuedAt *metav1.Time `json:"issuedAt,omitempty"`

	// NotBefore is when the key starts to be valid.
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty"`

	// ExpiresAt is when the key expires: its grace period begins.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// GraceEndsAt is when the grace period ends: the organization is
	// restricted (nothing new) until restrictedEndsAt.
	// +optional
	GraceEndsAt *metav1.Time `json:"graceEndsAt,omitempty"`

	// RestrictedEndsAt is when the license stops applying.
	// +optional
	RestrictedEndsAt *metav1.Time `json:"restrictedEndsAt,omitempty"`

	// Sequence orders the keys of one license id: the highest (then the
	// latest issuedAt) is in force, the others are Superseded.
	// +optional
	Sequence int64 `json:"sequence,omitempty"`

	// SupersededBy names the License whose key renews this one.
	// +optional
	SupersededBy string `json:"supersededBy,omitempty"`

	// Entitlements are the feature codes the key switches on, unknown ones
	// included.
	// +listType=atomic
	// +optional
	Entitlements []string `json:"entitlements,omitempty"`

	// UsageReportKey is the public key (PEM) this installation signs its
	// usage reports with: give it to the vendor, who verifies reports with
	// orgplane license verify-report --public-key.
	// +optional
	UsageReportKey string `json:"usageReportKey,omitempty"`
}

// License is a signed license key, optionally assigned to an organization.
// The assigned organization's plan and limits come from its valid licenses.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=lic,categories=orgplane
// +kubebuilder:printcolumn:name="Organization",type=string,JSONPath=`.spec.organization`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.organizationUID) || size(self.spec.organizationUID) == 0 || (has(self.spec.organization) && size(self.spec.organization) > 0)",message="spec.organizationUID needs spec.organization: name the organization too"
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.status.type`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Expires",type=string,format=date-time,JSONPath=`.status.expiresAt`,description="When the key expires and its grace period begins (UTC)"
// +kubebuilder:printcolumn:name="Grace Ends",type=string,format=date-time,JSONPath=`.status.graceEndsAt`,priority=1,description="When the organization becomes restricted (UTC)"
// +kubebuilder:printcolumn:name="Licensee",type=string,JSONPath=`.status.licensee`,priority=1
// +kubebuilder:printcolumn:name="License ID",type=string,JSONPath=`.status.licenseID`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type License struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   LicenseSpec   `json:"spec"`
	Status LicenseStatus `json:"status,omitempty"`
}

// LicenseList is a list of Licenses.
// +kubebuilder:object:root=true
type LicenseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []License `json:"items"`
}

// Guardrails shape every workspace (account namespace) of an organization.
type Guardrails struct {
	// Workspace is the quota of each workspace (ResourceQuota orgplane-quota):
	// requests.cpu, requests.memory, limits.cpu, limits.memory, pods,
	// persistentvolumeclaims, requests.storage.
	// +optional
	Workspace corev1.ResourceList `json:"workspace,omitempty"`

	// Organization is the total of all the organization's workspaces
	// together, in the same resources. orgplane shares it among the
	// workspaces (ResourceQuota orgplane-organization-share in each): every
	// workspace keeps what it uses, and what is left of the total is split
	// among them and re-split as they fill up, so their shares never add up
	// to more than the total.
	// +optional
	Organization corev1.ResourceList `json:"organization,omitempty"`

	// Network isolation of each workspace (NetworkPolicy orgplane-network):
	// isolated (the same workspace and the cluster DNS only) or
	// organization (all of the organization's workspaces and the cluster
	// DNS); empty means none.
	// +kubebuilder:validation:Enum=isolated;organization
	// +optional
	Network string `json:"network,omitempty"`
}

// RevocationListSpec holds a signed revocation list.
type RevocationListSpec struct {
	// List is the signed revocation list issued by `orgplane license
	// revoke`. The list with the highest sequence this installation has
	// ever seen is in force: applying an older list, or deleting this
	// object, revokes nothing less.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=262144
	List string `json:"list"`
}

// RevocationListPhase says whether a list is the one in force.
// +kubebuilder:validation:Enum=InForce;Superseded;Invalid
type RevocationListPhase string

// Revocation list phases.
const (
	RevocationListInForce    RevocationListPhase = "InForce"
	RevocationListSuperseded RevocationListPhase = "Superseded"
	RevocationListInvalid    RevocationListPhase = "Invalid"
)

// RevocationListStatus is what orgplane read from the list.
type RevocationListStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase: InForce, Superseded (a list with a higher sequence was seen)
	// or Invalid.
	// +optional
	Phase RevocationListPhase `json:"phase,omitempty"`

	// Reason explains the phase.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Sequence of the list.
	// +optional
	Sequence int64 `json:"sequence,omitempty"`

	// InForceSequence is the highest sequence this installation has seen.
	// +optional
	InForceSequence int64 `json:"inForceSequence,omitempty"`

	// Revoked are the license ids the list revokes.
	// +listType=atomic
	// +optional
	Revoked []string `json:"revoked,omitempty"`

	// IssuedAt is when the vendor signed the list.
	// +optional
	IssuedAt *metav1.Time `json:"issuedAt,omitempty"`
}

// RevocationList is a vendor-signed list of revoked license ids, applied
// with kubectl like a License; it works offline.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=rl,categories=orgplane
// +kubebuilder:printcolumn:name="Sequence",type=integer,JSONPath=`.status.sequence`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Revoked",type=string,JSONPath=`.status.revoked`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RevocationList struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   RevocationListSpec   `json:"spec"`
	Status RevocationListStatus `json:"status,omitempty"`
}

// RevocationListList is a list of RevocationLists.
// +kubebuilder:object:root=true
type RevocationListList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RevocationList `json:"items"`
}
