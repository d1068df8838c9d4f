package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Seats count the users limit the way every way of joining does: the
// distinct members of the organization and its accounts, and the pending
// invitations to people who are not members yet.
type Seats struct {
	// Used: members, and pending invitations to people not members yet.
	Used int64 `json:"used"`
	// Pending: the unexpired pending invitations among them.
	Pending int64 `json:"pending"`
	// Limit: the plan's users limit.
	Limit int64 `json:"limit"`
	// Summary for kubectl get, e.g. "4/5 (1 pending)".
	// +optional
	Summary string `json:"summary,omitempty"`
}

// InvitationPhase is where an invitation is in its life.
// +kubebuilder:validation:Enum=Pending;Accepted;Declined;Revoked;Expired
type InvitationPhase string

// Invitation phases: Pending until the invitee accepts or declines, an
// admin revokes it, or it expires.
const (
	InvitationPending  InvitationPhase = "Pending"
	InvitationAccepted InvitationPhase = "Accepted"
	InvitationDeclined InvitationPhase = "Declined"
	InvitationRevoked  InvitationPhase = "Revoked"
	InvitationExpired  InvitationPhase = "Expired"
)

// InvitationResponse is the invitee's answer.
// +kubebuilder:validation:Enum=Accepted;Declined
type InvitationResponse string

// Invitee answers.
const (
	ResponseAccepted InvitationResponse = "Accepted"
	ResponseDeclined InvitationResponse = "Declined"
)

// InvitationSpec says who is invited, with which role, until when.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.email) || self.email == oldSelf.email",message="spec.email cannot change: revoke the invitation and send a new one"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.role) || self.role == oldSelf.role",message="spec.role cannot change: revoke the invitation and send a new one"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.account) == has(self.account) && (!has(self.account) || self.account == oldSelf.account)",message="spec.account cannot change: revoke the invitation and send a new one"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.revoked) || !oldSelf.revoked || self.revoked",message="a revoked invitation stays revoked: send a new one"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.response) || (has(self.response) && self.response == oldSelf.response)",message="the invitee has answered already; the answer cannot change"
type InvitationSpec struct {
	// Email of the person invited, in lower case: only the user whose
	// authenticated username is this address may accept or decline.
	// +kubebuilder:validation:MinLength=3
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self == self.lowerAscii() && self.contains('@')",message="spec.email must be an e-mail address in lower case"
	Email string `json:"email"`

	// Role the invitee gets: admin, member or viewer; never above the
	// inviter's own.
	// +kubebuilder:validation:Enum=admin;member;viewer
	// +kubebuilder:default=member
	// +optional
	Role Role `json:"role,omitempty"`

	// Account, when set, makes the invitation one to that account of the
	// organization (an account-level membership) instead of the
	// organization.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Account string `json:"account,omitempty"`

	// ExpiresInDays is how long the invitation stays open after it is sent
	// or resent: 1 to 30 days, 7 by default (an installation may lower the
	// minimum, --invitation-min-expiry).
	// +kubebuilder:validation:Type=number
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=30
	// +kubebuilder:default=7
	// +optional
	ExpiresInDays float64 `json:"expiresInDays,omitempty"`

	// Resend: raise it to send the invitation again; the expiry restarts
	// and the history keeps the earlier sends.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Resend int64 `json:"resend,omitempty"`

	// Revoked withdraws the invitation and frees its seat. It cannot be
	// undone.
	// +optional
	Revoked bool `json:"revoked,omitempty"`

	// Response is the invitee's answer, written for them by the REST API
	// (which checks who they are) or by a platform admin on their behalf.
	// +optional
	Response InvitationResponse `json:"response,omitempty"`

	// RespondedBy is who answered: the invitee's username, or the platform
	// admin who answered for them. Admission sets it.
	// +optional
	RespondedBy string `json:"respondedBy,omitempty"`
}

// InvitationEvent is one step of an invitation's history.
type InvitationEvent struct {
	// Event: Sent, Resent, Accepted, Declined, Revoked or Expired.
	Event string `json:"event"`
	// At is when.
	At metav1.Time `json:"at"`
	// By is who, when known.
	// +optional
	By string `json:"by,omitempty"`
}

// InvitationStatus is where the invitation is.
type InvitationStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Phase: Pending, Accepted, Declined, Revoked or Expired.
	// +optional
	Phase InvitationPhase `json:"phase,omitempty"`

	// InvitedBy is the username that created the invitation.
	// +optional
	InvitedBy string `json:"invitedBy,omitempty"`

	// ExpiresAt is when a pending invitation expires.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// Resent is the spec.resend last acted on.
	// +optional
	Resent int64 `json:"resent,omitempty"`

	// AcceptedBy is the username that became a member.
	// +optional
	AcceptedBy string `json:"acceptedBy,omitempty"`

	// History of the invitation, oldest first.
	// +listType=atomic
	// +optional
	History []InvitationEvent `json:"history,omitempty"`
}

// Invitation asks a person, by e-mail, to join an organization or one of
// its accounts. It lives in the organization's namespace. While pending
// it holds a seat; accepting it makes the invitee a member exactly as a
// direct add would.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=inv,categories=orgplane
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email`
// +kubebuilder:printcolumn:name="Role",type=string,JSONPath=`.spec.role`
// +kubebuilder:printcolumn:name="Account",type=string,JSONPath=`.spec.account`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Expires",type=string,format=date-time,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Invited By",type=string,JSONPath=`.status.invitedBy`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Invitation struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   InvitationSpec   `json:"spec"`
	Status InvitationStatus `json:"status,omitempty"`
}

// InvitationList is a list of Invitations.
// +kubebuilder:object:root=true
type InvitationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Invitation `json:"items"`
}

// Holds says whether the invitation holds a seat at now: pending and
// unexpired, or accepted and its membership not made yet (the seat passes
// to the member, never freed in between).
func (i *Invitation) Holds(now time.Time) bool {
	switch {
	case i.Spec.Revoked || i.Spec.Response == ResponseDeclined:
		return false
	case i.Spec.Response == ResponseAccepted:
		return i.Status.Phase != InvitationAccepted
	case i.Status.Phase == InvitationExpired:
		return false
	}
	return i.Status.ExpiresAt == nil || now.Before(i.Status.ExpiresAt.Time)
}
