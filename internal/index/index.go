// Package index is orgplane's shared vocabulary for reading the manager's
// cache: the field indexes the reconcilers, admission and the REST API
// query, and the keys members and callers are indexed by.
package index

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/displayname"
)

// Field indexes on the manager's cache.
const (
	// MemberUser indexes Organizations by the usernames of their User members.
	MemberUser = "spec.members.user"
	// MemberSubject indexes Organizations by their members as the API
	// server authenticates them: "user:<username>" (User members, and
	// ServiceAccount members as user:system:serviceaccount:<ns>:<name>) or
	// "group:<name>".
	MemberSubject = "spec.members.subject"
	// DisplayName indexes Organizations by normalized display name
	// (displayname.Normalize: trimmed, NFKC, case-folded).
	DisplayName = "spec.displayName.lower"
	// Auth0ID indexes Organizations by spec.auth0.id, the SSO
	// organization they are linked to (none when empty).
	Auth0ID = "spec.auth0.id"
	// UID indexes Organizations by metadata.uid (the REST API's id).
	UID = "metadata.uid"
	// Username indexes Users by spec.username.
	Username = "spec.username"
	// LicenseOrganization indexes Licenses by spec.organization.
	LicenseOrganization = "spec.organization"
	// LicenseID indexes Licenses by the id inside their key (status.licenseID).
	LicenseID = "status.licenseID"
	// UserOrganizations indexes Users by the organizations their status lists.
	UserOrganizations = "status.organizations"
	// CreatedBy indexes Organizations by who created them, as
	// CreatorKey counts creators (the
	// orgplane.io/created-by annotation admission records).
	CreatedBy = "metadata.annotations.created-by"
	// InvitationEmail indexes Invitations by spec.email: an invitee's
	// invitations, in every organization.
	InvitationEmail = "spec.email"
	// DomainName indexes Domains by spec.domain, in every organization.
	DomainName = "spec.domain"
	// WorkspaceOrganization indexes workspace namespaces (labelled by
	// orgplane with an organization and an Account's UID) by organization:
	// an organization's workspaces without a scan of every namespace.
	WorkspaceOrganization = "metadata.labels.workspace-organization"
	// WorkspaceAccount indexes workspace namespaces by their Account's UID.
	WorkspaceAccount = "metadata.labels.workspace-account"
)

// Setup registers the field indexes the reconcilers and the REST API read.
func Setup(ctx context.Context, indexer client.FieldIndexer) error {
	indexes := []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&v1alpha1.Organization{}, MemberUser, MemberUsernames},
		{&v1alpha1.Organization{}, MemberSubject, MemberSubjects},
		{&v1alpha1.Organization{}, DisplayName, func(o client.Object) []string {
			return []string{displayname.Normalize(o.(*v1alpha1.Organization).Spec.DisplayName)}
		}},
		{&v1alpha1.Organization{}, CreatedBy, func(o client.Object) []string {
			if by := o.GetAnnotations()[v1alpha1.AnnotationCreatedBy]; by != "" {
				return []string{CreatorKey(by)}
			}
			return nil
		}},
		{&v1alpha1.Organization{}, Auth0ID, func(o client.Object) []string {
			if a := o.(*v1alpha1.Organization).Spec.Auth0; a != nil && a.ID != "" {
				return []string{a.ID}
			}
			return nil
		}},
		{&v1alpha1.Organization{}, UID, func(o client.Object) []string {
			return []string{string(o.GetUID())}
		}},
		{&v1alpha1.User{}, Username, func(o client.Object) []string {
			return []string{o.(*v1alpha1.User).Spec.Username}
		}},
		{&v1alpha1.License{}, LicenseOrganization, func(o client.Object) []string {
			return []string{o.(*v1alpha1.License).Spec.Organization}
		}},
		{&v1alpha1.License{}, LicenseID, func(o client.Object) []string {
			return []string{o.(*v1alpha1.License).Status.LicenseID}
		}},
		{&v1alpha1.Invitation{}, InvitationEmail, func(o client.Object) []string {
			return []string{o.(*v1alpha1.Invitation).Spec.Email}
		}},
		{&v1alpha1.Domain{}, DomainName, func(o client.Object) []string {
			return []string{o.(*v1alpha1.Domain).Spec.Domain}
		}},
		{&corev1.Namespace{}, WorkspaceOrganization, workspaceLabel(v1alpha1.LabelOrganization)},
		{&corev1.Namespace{}, WorkspaceAccount, workspaceLabel(v1alpha1.LabelAccountUID)},
		{&v1alpha1.User{}, UserOrganizations, func(o client.Object) []string {
			orgs := o.(*v1alpha1.User).Status.Organizations
			names := make([]string, 0, len(orgs))
			for _, m := range orgs {
				names = append(names, m.Name)
			}
			return names
		}},
	}
	for _, ix := range indexes {
		if err := indexer.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("failed to index %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

// workspaceLabel indexes a workspace namespace by the value of its label
// key; other namespaces are not indexed.
func workspaceLabel(key string) client.IndexerFunc {
	return func(o client.Object) []string {
		l := o.GetLabels()
		if l[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByValue || l[v1alpha1.LabelAccountUID] == "" || l[key] == "" {
			return nil
		}
		return []string{l[key]}
	}
}

// MemberSubjects are the MemberSubject keys of an Organization's members.
func MemberSubjects(o client.Object) []string {
	members := o.(*v1alpha1.Organization).Spec.Members
	keys := make([]string, 0, len(members))
	for _, m := range members {
		keys = append(keys, SubjectKey(m))
	}
	return keys
}

// MemberUsernames are the usernames of an Organization's User and
// ServiceAccount members: the identities that sign in, each with a User
// object for their preferences.
func MemberUsernames(o client.Object) []string {
	var names []string
	for _, m := range o.(*v1alpha1.Organization).Spec.Members {
		if m.Kind != v1alpha1.SubjectGroup {
			names = append(names, MemberUsername(m))
		}
	}
	return names
}

// SubjectKey is how MemberSubject names a member: the key of the
// username the API server authenticates it as (a ServiceAccount member as
// system:serviceaccount:<namespace>:<name>), or of its group.
func SubjectKey(m v1alpha1.Member) string {
	switch m.Kind {
	case v1alpha1.SubjectGroup:
		return GroupKey(m.Name)
	}
	return UserKey(MemberUsername(m))
}

// MemberUsername is the username kube-apiserver authenticates a User or
// ServiceAccount member as (system:serviceaccount:<namespace>:<name>).
func MemberUsername(m v1alpha1.Member) string {
	if m.Kind == v1alpha1.SubjectServiceAccount {
		return serviceaccount.MakeUsername(m.Namespace, m.Name)
	}
	return m.Name
}

// MemberFor is the member an authenticated username is, with role: a
// ServiceAccount's username names a member of kind ServiceAccount (with its
// namespace), any other a User. SubjectKey(MemberFor(u, r)) == UserKey(u).
func MemberFor(username string, role v1alpha1.Role) v1alpha1.Member {
	if ns, name, err := serviceaccount.SplitUsername(username); err == nil {
		return v1alpha1.Member{Kind: v1alpha1.SubjectServiceAccount, Namespace: ns, Name: name, Role: role}
	}
	return v1alpha1.Member{Kind: v1alpha1.SubjectUser, Name: username, Role: role}
}

// CreatorKey is who the per-creator caps count for username: a person by
// their username, and every ServiceAccount of one namespace together (as
// "serviceaccounts:<namespace>"): whoever may create ServiceAccounts there
// can mint as many as they like, each with a username of its own.
func CreatorKey(username string) string {
	if ns, _, err := serviceaccount.SplitUsername(username); err == nil {
		return "serviceaccounts:" + ns
	}
	return "user:" + username
}

// UserKey is how MemberSubject names a username. Keys start with
// "user:" or "group:", so a user can never hold a group's key (a user
// named group:admins has the key user:group:admins).
func UserKey(username string) string { return "user:" + username }

// GroupKey is how MemberSubject names a group.
func GroupKey(group string) string { return "group:" + group }

// RoleOf is the highest role that a caller holding keys (CallerKeys) has
// among org's members, or "" when they are none of them.
func RoleOf(org *v1alpha1.Organization, keys []string) v1alpha1.Role {
	return RoleAmong(org.Spec.Members, keys)
}

// RoleAmong is the highest role that a caller holding keys (CallerKeys)
// has among members, or "" when they are none of them.
func RoleAmong(members []v1alpha1.Member, keys []string) v1alpha1.Role {
	var role v1alpha1.Role
	for _, m := range members {
		if m.Role.Outranks(role) && slices.Contains(keys, SubjectKey(m)) {
			role = m.Role
		}
	}
	return role
}

// CallerKeys are the MemberSubject keys a caller holds: their
// username's and each of their groups'.
func CallerKeys(username string, groups []string) []string {
	keys := make([]string, 0, 1+len(groups))
	keys = append(keys, UserKey(username))
	for _, g := range groups {
		keys = append(keys, GroupKey(g))
	}
	return keys
}
