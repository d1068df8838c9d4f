package v1alpha1

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PlanPhase is where an organization's plan is in its license's lifecycle.
// +kubebuilder:validation:Enum=Free;Active;Grace;Restricted
type PlanPhase string

// Plan phases. A license in force moves Active → Grace → Restricted and
// then expires: the organization takes its next license or the free plan.
const (
	// PlanPhaseFree: no license is in force; the free plan applies.
	PlanPhaseFree PlanPhase = "Free"
	// PlanPhaseActive: the license is before its expiry.
	PlanPhaseActive PlanPhase = "Active"
	// PlanPhaseGrace: the license has expired and keeps its plan for its
	// grace period; nothing changes for the organization yet.
	PlanPhaseGrace PlanPhase = "Grace"
	// PlanPhaseRestricted: the grace period is over; the plan is kept for
	// what exists, and nothing new may be created: no accounts, members,
	// Deployments or raised quotas.
	PlanPhaseRestricted PlanPhase = "Restricted"
)

// EntitlementSSO lets an organization link an SSO organization
// (spec.auth0). Installations that sell it leave it out of the free plan's
// entitlements (--free-entitlements).
const EntitlementSSO = "sso"

// PlanFree is the plan type of an organization with no license in force.
const PlanFree = "free"

// Plan is an organization's effective plan, decided by the organization
// reconciler alone (internal/plan) from its licenses, the installation's
// free-plan settings and the clock. Admission, the other reconcilers and
// the REST API read it here.
type Plan struct {
	// Type of the plan: free, or the license's type (trial, team,
	// enterprise, ...).
	Type string `json:"type"`

	// Phase of the plan: Free, Active, Grace or Restricted.
	Phase PlanPhase `json:"phase"`

	// License is the name of the License in force; empty on the free plan.
	// +optional
	License string `json:"license,omitempty"`

	// LicenseID is the id in its key.
	// +optional
	LicenseID string `json:"licenseID,omitempty"`

	// ExpiresAt is when the license expires (phase Grace begins).
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// GraceEndsAt is when the grace period ends (phase Restricted begins).
	// +optional
	GraceEndsAt *metav1.Time `json:"graceEndsAt,omitempty"`

	// RestrictedEndsAt is when the license stops applying: the
	// organization takes its next license or the free plan.
	// +optional
	RestrictedEndsAt *metav1.Time `json:"restrictedEndsAt,omitempty"`

	// Limits of the plan: never below the free plan's.
	Limits Limits `json:"limits"`

	// Guardrails of the plan: the license's, with the free plan's where
	// the license leaves one out.
	// +optional
	Guardrails *Guardrails `json:"guardrails,omitempty"`

	// Entitlements are the feature codes the plan switches on: the
	// license's and the free plan's. Unknown codes are kept.
	// +listType=set
	// +optional
	Entitlements []string `json:"entitlements,omitempty"`

	// NextChangeAt is the next instant at which the plan changes by itself
	// (a license starts, expires, or moves to its next phase).
	// +optional
	NextChangeAt *metav1.Time `json:"nextChangeAt,omitempty"`
}

// UnmarshalJSON reads a plan, and the plan type alone as organizations
// stored before status.plan became an object recorded it.
func (p *Plan) UnmarshalJSON(data []byte) error {
	var typ string
	if json.Unmarshal(data, &typ) == nil {
		*p = Plan{Type: typ}
		return nil
	}
	type plain Plan
	return json.Unmarshal(data, (*plain)(p))
}

// Entitled says whether the plan switches the feature code on.
func (p *Plan) Entitled(code string) bool {
	if p == nil {
		return false
	}
	for _, e := range p.Entitlements {
		if e == code {
			return true
		}
	}
	return false
}

// PeakUsage is the highest usage seen in a period (a calendar month, UTC).
type PeakUsage struct {
	// Since is the start of the period.
	Since metav1.Time `json:"since"`
	// Usage is the highest of each count seen since then.
	Usage `json:",inline"`
}
