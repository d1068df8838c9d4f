package views

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	myv1 "github.com/orgplane/orgplane/api/my/v1"
	"github.com/orgplane/orgplane/api/v1alpha1"
	"github.com/orgplane/orgplane/internal/index"
)

// viewer is a caller as the views filter for them.
type viewer struct {
	keys     []string // index.CallerKeys
	platform bool     // a platform admin sees every organization
}

// orgRole is the caller's role in s's organization (myv1's Role values),
// or "" when they may not see it. An organization being deleted is no
// one's any more, as the REST API says too.
func (v viewer) orgRole(s *snapshot) string {
	if s == nil || s.org == nil || !s.org.DeletionTimestamp.IsZero() {
		return ""
	}
	if role := index.RoleOf(s.org, v.keys); role != "" {
		return string(role)
	}
	for _, a := range s.accounts {
		if index.RoleAmong(a.Spec.Members, v.keys) != "" {
			return myv1.RoleAccount
		}
	}
	if v.platform {
		return myv1.RolePlatformAdmin
	}
	return ""
}

// accountRole is the caller's role in account a of an organization where
// their role is orgRole, or "" when they may not see it.
func (v viewer) accountRole(orgRole string, a *v1alpha1.Account) string {
	switch orgRole {
	case "", myv1.RoleAccount, myv1.RolePlatformAdmin:
		if role := index.RoleAmong(a.Spec.Members, v.keys); role != "" {
			return string(role)
		}
		if orgRole == myv1.RolePlatformAdmin {
			return orgRole
		}
		return ""
	}
	role := v1alpha1.Role(orgRole)
	if r := index.RoleAmong(a.Spec.Members, v.keys); r.Outranks(role) {
		role = r
	}
	return string(role)
}

// organization is s's organization as the caller sees it, or nil.
func (v viewer) organization(s *snapshot) *myv1.Organization {
	role := v.orgRole(s)
	if role == "" {
		return nil
	}
	o := s.org
	out := &myv1.Organization{
		TypeMeta:   metav1.TypeMeta{APIVersion: myv1.GroupVersion.String(), Kind: myv1.OrganizationKind},
		ObjectMeta: objectMeta(o.Name, o.ObjectMeta, s.at),
		Spec:       myv1.OrganizationSpec{DisplayName: o.Spec.DisplayName, Description: o.Spec.Description, Suspended: o.Spec.Suspended},
		Status: myv1.OrganizationStatus{Role: role, Usage: o.Status.UsageSummary, Namespace: o.Status.Namespace,
			Ready: ready(o.Status.Conditions)},
	}
	if role == myv1.RoleAccount {
		// A member of some accounts only is told which organization they
		// belong to, not its plan, seats or usage: the REST API shows
		// those to the organization's members only.
		out.Status.Usage = ""
	} else {
		if p := o.Status.Plan; p != nil {
			out.Status.Plan, out.Status.Phase, out.Status.RenewBy = p.Type, string(p.Phase), p.ExpiresAt
		}
		if o.Status.Seats != nil {
			out.Status.Seats = o.Status.Seats.Summary
		}
	}
	for _, a := range s.accounts {
		if v.accountRole(role, a) != "" {
			out.Status.Accounts++
		}
	}
	return out
}

// accounts are s's accounts the caller sees, by name.
func (v viewer) accounts(s *snapshot) []*myv1.Account {
	role := v.orgRole(s)
	if role == "" {
		return nil
	}
	var out []*myv1.Account
	for _, a := range s.accounts {
		r := v.accountRole(role, a)
		if r == "" {
			continue
		}
		view := &myv1.Account{
			TypeMeta:   metav1.TypeMeta{APIVersion: myv1.GroupVersion.String(), Kind: myv1.AccountKind},
			ObjectMeta: objectMeta(AccountName(s.name, a.Name), a.ObjectMeta, s.at),
			Spec:       myv1.AccountSpec{DisplayName: a.Spec.DisplayName, Description: a.Spec.Description},
			Status: myv1.AccountStatus{Organization: s.name, Account: a.Name, Workspace: a.WorkspaceName(s.name),
				Role: r, Ready: ready(a.Status.Conditions)},
		}
		if a.Status.Quota != nil {
			view.Status.Quota = a.Status.Quota.Summary
		}
		out = append(out, view)
	}
	return out
}

// AccountName is the name of an account's view: <organization>.<account>.
// Neither name has a dot, so it names one account.
func AccountName(org, account string) string { return org + "." + account }

func objectMeta(name string, of metav1.ObjectMeta, at position) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, UID: of.UID, Labels: maps.Clone(of.Labels),
		CreationTimestamp: of.CreationTimestamp, ResourceVersion: at.String()}
}

func ready(conditions []metav1.Condition) string {
	if c := meta.FindStatusCondition(conditions, "Ready"); c != nil {
		return string(c.Status)
	}
	return string(metav1.ConditionUnknown)
}

// orgFields are the fields an organization's view can be selected by.
func orgFields(o *myv1.Organization) fields.Set {
	return fields.Set{fieldName: o.Name, fieldRole: o.Status.Role, "status.plan": o.Status.Plan,
		"status.phase": o.Status.Phase}
}

// accountFields are the fields an account's view can be selected by.
func accountFields(a *myv1.Account) fields.Set {
	return fields.Set{fieldName: a.Name, "status.organization": a.Status.Organization,
		"status.account": a.Status.Account, fieldRole: a.Status.Role, "status.workspace": a.Status.Workspace}
}

// Fields both kinds' views can be selected by.
const (
	fieldName = "metadata.name"
	fieldRole = "status.role"
)

// keysOf are a field set's names.
func keysOf(set fields.Set) []string {
	return slices.Sorted(maps.Keys(set))
}
