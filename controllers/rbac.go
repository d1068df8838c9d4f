package controllers

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/orgplane/orgplane/api/v1alpha1"
)

// Names of the RBAC objects orgplane keeps for organizations and accounts.
const (
	// orgAdminRole and orgMemberRole name the shared ClusterRoles of
	// config/rbac/organization_roles.yaml and their RoleBindings in each
	// organization's namespace.
	orgAdminRole       = "orgplane-organization-admin"
	orgMemberRole      = "orgplane-organization-member"
	workspaceAdmins    = "orgplane-admins"
	workspaceMembers   = "orgplane-members"
	workspaceAdminRole = "admin"
	workspaceEditRole  = "edit"
	workspaceViewers   = "orgplane-viewers"
	workspaceViewRole  = "view"
)

// kindClusterRole is the roleRef kind of every binding orgplane makes.
const kindClusterRole = "ClusterRole"

// orgClusterRoleName names the ClusterRole (and its binding) that lets the
// organization's admins get and patch the Organization object itself. The
// members' one (role member) is no longer made; it is deleted where found.
func orgClusterRoleName(org string, role v1alpha1.Role) string {
	return "orgplane:organization:" + org + ":" + string(role)
}

// subjects turns members into RBAC subjects, leaving out ServiceAccounts of
// tenant namespaces (stored before CRD validation refused them): their
// tokens can be minted by anyone who edits there.
func subjects(members []v1alpha1.Member) []rbacv1.Subject {
	out := make([]rbacv1.Subject, 0, len(members))
	for _, m := range members {
		if m.Kind == v1alpha1.SubjectServiceAccount && v1alpha1.TenantNamespace(m.Namespace) {
			continue
		}
		s := rbacv1.Subject{Kind: m.Kind, Name: m.Name}
		switch m.Kind {
		case v1alpha1.SubjectServiceAccount:
			s.Namespace = m.Namespace
		default:
			s.APIGroup = rbacv1.GroupName
		}
		out = append(out, s)
	}
	return out
}

// orgObjectRules let admins read and change their own Organization object.
func orgObjectRules(org string) []rbacv1.PolicyRule {
	group := []string{v1alpha1.GroupVersion.Group}
	return []rbacv1.PolicyRule{
		{APIGroups: group, Resources: []string{"organizations"}, ResourceNames: []string{org}, Verbs: []string{"get", "watch", "update", "patch"}},
		{APIGroups: group, Resources: []string{"organizations/status"}, ResourceNames: []string{org}, Verbs: []string{"get"}},
	}
}
