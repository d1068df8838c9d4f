package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Role of a member in an organization.
// +kubebuilder:validation:Enum=admin;member;viewer
type Role string

const (
	// RoleAdmin manages the organization, its accounts and its members.
	RoleAdmin Role = "admin"
	// RoleMember reads the organization and works in its accounts.
	RoleMember Role = "member"
	// RoleViewer reads the organization, its accounts and what runs in
	// their workspaces, but no Secrets, and changes nothing.
	RoleViewer Role = "viewer"
)

// Outranks says whether r grants more than other: admin, then member, then viewer.
func (r Role) Outranks(other Role) bool { return roleRank[r] > roleRank[other] }

var roleRank = map[Role]int{RoleViewer: 1, RoleMember: 2, RoleAdmin: 3}

// Subject kinds a member can be.
const (
	SubjectUser           = "User"
	SubjectGroup          = "Group"
	SubjectServiceAccount = "ServiceAccount"
)

// Member is an RBAC subject with a role in an organization.
// +kubebuilder:validation:XValidation:rule="self.kind == 'ServiceAccount' ? (has(self.__namespace__) && size(self.__namespace__) > 0) : (!has(self.__namespace__) || size(self.__namespace__) == 0)",message="namespace is required for a ServiceAccount member and not allowed for a User or Group"
// +kubebuilder:validation:XValidation:rule="!(self.kind == 'Group' && self.name.startsWith('system:'))",message="a built-in group (system:authenticated, system:masters, …) cannot be a member: it would make every user it holds a member; name a group of your own"
// +kubebuilder:validation:XValidation:rule="!(self.kind == 'User' && self.name.startsWith('system:'))",message="a user named system:… is one of Kubernetes' own identities and cannot be a member; add a service account as kind ServiceAccount with its namespace"
// +kubebuilder:validation:XValidation:rule="!(self.kind == 'ServiceAccount' && has(self.__namespace__) && self.__namespace__ == 'kube-system')",message="kube-system service accounts are the cluster's own controllers and cannot be members"
// +kubebuilder:validation:XValidation:rule="!(self.kind == 'ServiceAccount' && has(self.__namespace__) && (self.__namespace__.startsWith('ws-') || self.__namespace__.startsWith('org-')))",message="a ServiceAccount of an orgplane workspace or organization namespace cannot be a member: the people who work in that namespace can mint its token, so it would be worth more than they are; run automation as a ServiceAccount of a namespace of its own"
type Member struct {
	// Kind of subject: User (a Kubernetes username, usually an email from
	// OIDC), Group, or ServiceAccount.
	// +kubebuilder:validation:Enum=User;Group;ServiceAccount
	// +kubebuilder:default=User
	// +optional
	Kind string `json:"kind"`

	// Name of the user, group or service account, as Kubernetes
	// authentication reports it (for example alice@example.com).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of a ServiceAccount member (empty for a User or Group). Part
	// of the member's key: team-a/ci and team-b/ci are two members.
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Role of the member: admin manages the organization, its accounts and
	// members; member reads the organization and edits inside its accounts;
	// viewer reads the organization, its accounts and their workspaces (no
	// Secrets) and changes nothing.
	Role Role `json:"role"`

	// JoinedVia records how the membership began: direct (added by an
	// admin or a platform team), invitation (an invitation the person
	// accepted) or domain (a verified e-mail domain: auto-join or an
	// approved join request). Empty means direct.
	// +kubebuilder:validation:Enum="";direct;invitation;domain
	// +optional
	JoinedVia string `json:"joinedVia,omitempty"`
}

// Auth0 links the organization to an SSO organization.
type Auth0 struct {
	// DisplayName of the SSO organization.
	// +optional
	DisplayName string `json:"displayName,omitempty"`
	// ID of the SSO organization.
	// +optional
	ID string `json:"id,omitempty"`
	// Name of the SSO organization.
	// +optional
	Name string `json:"name,omitempty"`
}

// OrganizationSpec is what a platform team declares about a tenant.
type OrganizationSpec struct {
	// DisplayName is the human name of the organization, shown in consoles.
	// Display names are unique across organizations, ignoring case.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	DisplayName string `json:"displayName"`

	// Description of the organization.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`

	// Members of the organization with their roles. At least one must be an
	// admin.
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +listMapKey=namespace
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:XValidation:rule="self.exists(m, m.role == 'admin')",message="an organization needs at least one member with role admin"
	Members []Member `json:"members"`

	// Auth0 links the organization to its SSO organization.
	// +optional
	Auth0 *Auth0 `json:"auth0,omitempty"`

	// Parameters are named settings of the organization.
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	// +optional
	Parameters []Parameter `json:"parameters,omitempty"`

	// Suspended organizations keep everything but are refused new accounts,
	// members, deployments and REST API writes. Only platform admins (who
	// may update organizations cluster-wide) may suspend or resume.
	// +optional
	Suspended bool `json:"suspended,omitempty"`

	// EulaAccepted records that the creator accepted the end-user license
	// agreement when creating the organization (seed 002's eulaAccepted).
	// +optional
	EulaAccepted bool `json:"eulaAccepted,omitempty"`
}

// OrganizationStatus is what orgplane observed and provisioned.
type OrganizationStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, LicenseCompliant, Restricted.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Namespace orgplane created for the organization; its Accounts live there.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Plan is the organization's effective plan: its type, phase, limits,
	// guardrails and entitlements, and when it next changes.
	// +optional
	Plan *Plan `json:"plan,omitempty"`

	// Usage of the organization, counted from the cluster.
	// +optional
	Usage *Usage `json:"usage,omitempty"`

	// Reservations are creates that admission let through against the
	// limits and that may not be counted yet. Admission adds and prunes
	// them under optimistic concurrency, as ResourceQuota does.
	// +listType=atomic
	// +optional
	Reservations []Reservation `json:"reservations,omitempty"`

	// PeakUsage is the highest usage seen this calendar month (UTC), for
	// usage reports.
	// +optional
	PeakUsage *PeakUsage `json:"peakUsage,omitempty"`

	// Seats are the users limit as every way of joining sees it: members
	// and pending invitations together.
	// +optional
	Seats *Seats `json:"seats,omitempty"`

	// UsageSummary is usage against limits for kubectl get, e.g. "2/3 accounts".
	// +optional
	UsageSummary string `json:"usageSummary,omitempty"`

	// Quota is the organization-wide total of the plan's guardrails and
	// what all the organization's workspaces together use of it; absent
	// when the plan has no total.
	// +optional
	Quota *QuotaUsage `json:"quota,omitempty"`
}

// Reservation is one admitted create counted against a limit.
type Reservation struct {
	// Resource is accounts or deployments.
	Resource string `json:"resource"`
	// Name of the object created: an account's name, or a Deployment's
	// namespace/name.
	Name string `json:"name"`
	// Expires is when the reservation lapses if the object never appeared.
	Expires metav1.Time `json:"expires"`
}

// Organization is a tenant: its members with their roles, its accounts
// (projects) and its license. orgplane gives it a namespace where its
// Accounts live, and RBAC so admins manage those accounts with kubectl.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=org;orgs,categories=orgplane
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.status.plan.type`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.plan.phase`,description="Where the plan is in its license's lifecycle: Free, Active, Grace or Restricted"
// +kubebuilder:printcolumn:name="Renew By",type=string,format=date-time,JSONPath=`.status.plan.expiresAt`,priority=1,description="When the license in force expires (UTC)"
// +kubebuilder:printcolumn:name="Seats",type=string,JSONPath=`.status.seats.summary`,description="Seats used (members and pending invitations) of the plan's users limit"
// +kubebuilder:printcolumn:name="Usage",type=string,JSONPath=`.status.usageSummary`
// +kubebuilder:printcolumn:name="Quota",type=string,JSONPath=`.status.quota.summary`,priority=1,description="What all the workspaces use of the plan's organization-wide total"
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.status.namespace`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && size(self.metadata.name) <= 30",message="organization name must be at most 30 characters of lowercase letters, digits and '-', starting and ending with a letter or digit"
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || !self.metadata.name.contains('--')",optionalOldSelf=true,message="organization name must not contain '--': orgplane keeps it to separate organization and account in workspace namespace names (ws-<organization>--<account>)"
// +kubebuilder:validation:XValidation:rule="!(self.metadata.name in ['accounts', 'projects', 'users', 'verify', 'all'])",message="organization name is reserved: accounts, projects, users, verify and all are REST API routes; choose another name"
type Organization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   OrganizationSpec   `json:"spec"`
	Status OrganizationStatus `json:"status,omitempty"`
}

// OrganizationList is a list of Organizations.
// +kubebuilder:object:root=true
type OrganizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Organization `json:"items"`
}

// NamespaceName is the namespace orgplane creates for an organization.
func (o *Organization) NamespaceName() string { return OrganizationNamespace(o.Name) }

// MembersWithRole returns the members that have the given role.
func (o *Organization) MembersWithRole(role Role) []Member {
	return withRole(o.Spec.Members, role)
}

func withRole(members []Member, role Role) []Member {
	var out []Member
	for _, m := range members {
		if m.Role == role {
			out = append(out, m)
		}
	}
	return out
}
