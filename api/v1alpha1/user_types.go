package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UserSpec is a person and their preferences.
type UserSpec struct {
	// Username as Kubernetes authentication reports it (usually an email
	// from OIDC). Organization members of kind User refer to it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="username is immutable; create a new User instead"
	Username string `json:"username"`

	// Email address of the user.
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$')",message="email must look like name@example.com"
	// +optional
	Email string `json:"email,omitempty"`

	// ActiveAccount is the account the user works in now, as
	// "<organization>/<account>".
	// +optional
	ActiveAccount string `json:"activeAccount,omitempty"`

	// NextLoginAccount is the account to make active at the next login.
	// +optional
	NextLoginAccount string `json:"nextLoginAccount,omitempty"`

	// RequestedMFA is set when the user asked for multi-factor authentication.
	// +optional
	RequestedMFA bool `json:"requestedMFA,omitempty"`
}

// OrganizationMembership is one organization a user belongs to.
type OrganizationMembership struct {
	// Organization name.
	Name string `json:"name"`
	// Role of the user there.
	Role Role `json:"role"`
}

// UserStatus lists where the user belongs.
type UserStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Organizations the user is a member of, by name, with their role.
	// +listType=map
	// +listMapKey=name
	// +optional
	Organizations []OrganizationMembership `json:"organizations,omitempty"`
}

// User is a person, identified by their Kubernetes username. orgplane
// creates one for every User member of an organization.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=usr,categories=orgplane
// +kubebuilder:printcolumn:name="Username",type=string,JSONPath=`.spec.username`
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email`,priority=1
// +kubebuilder:printcolumn:name="Active Account",type=string,JSONPath=`.spec.activeAccount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type User struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   UserSpec   `json:"spec"`
	Status UserStatus `json:"status,omitempty"`
}

// UserList is a list of Users.
// +kubebuilder:object:root=true
type UserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []User `json:"items"`
}

// UserObjectName is the name of the User object orgplane creates for a
// Kubernetes username: a readable part (lowercased; '@' becomes "-at-",
// other characters outside [a-z0-9.-] become '-') and the first 16 hex
// digits of the SHA-256 of the exact username
// (alice@example.com → alice-at-example.com-ff8d9819fc0e12bf). The hash
// keeps distinct usernames apart even when their readable parts are equal
// (alice@x.io and alice-at-x.io, Alice and alice); 64 bits make finding a
// second username with the same name infeasible.
// Admission refuses a User created under any other name: orgplane reads a
// user's preferences from this object only.
func UserObjectName(username string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(username) {
		switch {
		case r == '@':
			b.WriteString("-at-")
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	base := strings.Trim(b.String(), "-.")
	if len(base) > 200 {
		base = strings.Trim(base[:200], "-.")
	}
	sum := sha256.Sum256([]byte(username))
	if base == "" {
		return "u-" + hex.EncodeToString(sum[:8])
	}
	return base + "-" + hex.EncodeToString(sum[:8])
}
