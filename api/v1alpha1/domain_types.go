package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Enrollment is what a verified domain lets people with its e-mail
// addresses do.
// +kubebuilder:validation:Enum=off;suggest;auto
type Enrollment string

// Enrollment modes.
const (
	// EnrollmentOff: nothing; invitations only.
	EnrollmentOff Enrollment = "off"
	// EnrollmentSuggest: a person asks to join (a JoinRequest) and an admin
	// approves.
	EnrollmentSuggest Enrollment = "suggest"
	// EnrollmentAuto: a person joins on their first call of the identity
	// routes, within the seats; at the limit it becomes a join request.
	EnrollmentAuto Enrollment = "auto"
)

// DomainPhase is where a domain's proof stands.
// +kubebuilder:validation:Enum=Pending;Verified;Lapsed;Conflict;Refused
type DomainPhase string

// Domain phases.
const (
	// DomainPending: the TXT record has not been seen yet.
	DomainPending DomainPhase = "Pending"
	// DomainVerified: the record is there; enrolment works.
	DomainVerified DomainPhase = "Verified"
	// DomainLapsed: it was verified and the record is gone; enrolment
	// stops, nobody is removed.
	DomainLapsed DomainPhase = "Lapsed"
	// DomainConflict: another organization holds the domain.
	DomainConflict DomainPhase = "Conflict"
	// DomainRefused: a consumer e-mail domain, which no organization may
	// claim.
	DomainRefused DomainPhase = "Refused"
)

// DomainSpec is an e-mail domain an organization claims, and what people
// with its addresses may do.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.domain) || self.domain == oldSelf.domain",message="spec.domain cannot change: claim the new domain with another Domain"
type DomainSpec struct {
	// Domain is the e-mail domain, e.g. acme.example (lower case, no
	// trailing dot).
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=253
	Domain string `json:"domain"`

	// Enrollment: off, suggest (people ask, admins approve) or auto
	// (people join on their first call of the identity routes). Works only
	// while the domain is Verified.
	// +kubebuilder:default=off
	// +optional
	Enrollment Enrollment `json:"enrollment,omitempty"`

	// DefaultRole of people who join through the domain: member or viewer,
	// never admin.
	// +kubebuilder:validation:Enum=member;viewer
	// +kubebuilder:default=member
	// +optional
	DefaultRole Role `json:"defaultRole,omitempty"`

	// Reverify: raise it to look the record up again now.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Reverify int64 `json:"reverify,omitempty"`
}

// DomainStatus is the proof and who holds the domain.
type DomainStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, Verified.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase: Pending, Verified, Lapsed, Conflict or Refused.
	// +optional
	Phase DomainPhase `json:"phase,omitempty"`

	// Reason explains the phase and what to do.
	// +optional
	Reason string `json:"reason,omitempty"`

	// RecordName is the DNS name of the TXT record that proves the claim.
	// +optional
	RecordName string `json:"recordName,omitempty"`

	// RecordValue is the value the TXT record must hold (it is not a
	// secret: it only works for this organization).
	// +optional
	RecordValue string `json:"recordValue,omitempty"`

	// VerifiedAt is when the record was first seen.
	// +optional
	VerifiedAt *metav1.Time `json:"verifiedAt,omitempty"`

	// CheckedAt is when the record was last looked up.
	// +optional
	CheckedAt *metav1.Time `json:"checkedAt,omitempty"`
}

// Domain is an e-mail domain an organization claims and proves with a DNS
// TXT record. One organization holds a domain per installation: the first
// to prove it. It lives in the organization's namespace.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dom,categories=orgplane
// +kubebuilder:printcolumn:name="Domain",type=string,JSONPath=`.spec.domain`
// +kubebuilder:printcolumn:name="Enrollment",type=string,JSONPath=`.spec.enrollment`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Record",type=string,JSONPath=`.status.recordName`,priority=1
// +kubebuilder:printcolumn:name="Checked",type=date,JSONPath=`.status.checkedAt`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Domain struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   DomainSpec   `json:"spec"`
	Status DomainStatus `json:"status,omitempty"`
}

// DomainList is a list of Domains.
// +kubebuilder:object:root=true
type DomainList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Domain `json:"items"`
}

// JoinRequestPhase is where a join request is.
// +kubebuilder:validation:Enum=Pending;Approved;Denied;Expired
type JoinRequestPhase string

// Join request phases.
const (
	JoinPending  JoinRequestPhase = "Pending"
	JoinApproved JoinRequestPhase = "Approved"
	JoinDenied   JoinRequestPhase = "Denied"
	JoinExpired  JoinRequestPhase = "Expired"
)

// JoinRequestSpec is a person asking to join through a verified domain.
// +kubebuilder:validation:XValidation:rule="self.email == oldSelf.email",message="spec.email cannot change"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.decision) || (has(self.decision) && self.decision == oldSelf.decision)",message="the request was decided already"
type JoinRequestSpec struct {
	// Email (the username) of the person asking.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	Email string `json:"email"`

	// Domain through which they ask (a Verified Domain of this
	// organization).
	// +kubebuilder:validation:MaxLength=253
	Domain string `json:"domain"`

	// Role they get when approved: member or viewer.
	// +kubebuilder:validation:Enum=member;viewer
	// +kubebuilder:default=member
	// +optional
	Role Role `json:"role,omitempty"`

	// Decision of an admin: Approved or Denied.
	// +kubebuilder:validation:Enum=Approved;Denied
	// +optional
	Decision JoinRequestPhase `json:"decision,omitempty"`

	// DecidedBy is the admin who decided. Admission sets it.
	// +optional
	DecidedBy string `json:"decidedBy,omitempty"`
}

// JoinRequestStatus is where the request is.
type JoinRequestStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase: Pending, Approved, Denied or Expired.
	// +optional
	Phase JoinRequestPhase `json:"phase,omitempty"`

	// Reason explains the phase.
	// +optional
	Reason string `json:"reason,omitempty"`
}

// JoinRequest is a person with an address of a verified domain asking to
// join the organization; an admin approves or denies it. Approving goes
// through the seat ledger like every way of joining.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=jr,categories=orgplane
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email`
// +kubebuilder:printcolumn:name="Domain",type=string,JSONPath=`.spec.domain`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type JoinRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   JoinRequestSpec   `json:"spec"`
	Status JoinRequestStatus `json:"status,omitempty"`
}

// JoinRequestList is a list of JoinRequests.
// +kubebuilder:object:root=true
type JoinRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []JoinRequest `json:"items"`
}
