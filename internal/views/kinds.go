package views

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"

	myv1 "github.com/orgplane/orgplane/api/my/v1"
)

// item is one view object with what selectors match on.
type item struct {
	obj    runtime.Object
	meta   *metav1.ObjectMeta
	fields fields.Set
}

// kind is one resource of my.orgplane.io/v1: how its views are made from
// a snapshot, listed and shown in a table.
type kind struct {
	resource   string
	kindName   string
	singular   string
	shortNames []string
	newObj     func() runtime.Object
	// items are the views the caller sees in one organization's snapshot.
	items func(v viewer, s *snapshot) []item
	// org is the organization a view's name belongs to.
	org  func(name string) string
	list func(items []item, lm metav1.ListMeta) runtime.Object
	// fieldNames are the fields the views can be selected by (item.fields).
	fieldNames []string
	// columns and cells make kubectl's table.
	columns []metav1.TableColumnDefinition
	cells   func(obj runtime.Object) []any
}

func (k *kind) groupResource() schema.GroupResource {
	return schema.GroupResource{Group: myv1.GroupVersion.Group, Resource: k.resource}
}

var organizations = &kind{
	resource: "organizations", kindName: myv1.OrganizationKind, singular: "organization", shortNames: []string{"myorg", "myorgs"},
	newObj: func() runtime.Object { return &myv1.Organization{} },
	items: func(v viewer, s *snapshot) []item {
		if o := v.organization(s); o != nil {
			return []item{{obj: o, meta: &o.ObjectMeta, fields: orgFields(o)}}
		}
		return nil
	},
	org:        func(name string) string { return name },
	fieldNames: keysOf(orgFields(&myv1.Organization{})),
	list: func(items []item, lm metav1.ListMeta) runtime.Object {
		out := &myv1.OrganizationList{TypeMeta: metav1.TypeMeta{APIVersion: myv1.GroupVersion.String(), Kind: "OrganizationList"},
			ListMeta: lm, Items: make([]myv1.Organization, 0, len(items))}
		for _, it := range items {
			out.Items = append(out.Items, *it.obj.(*myv1.Organization))
		}
		return out
	},
	columns: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: "The organization's name"},
		{Name: "Display Name", Type: "string", Description: "The organization's human name"},
		{Name: "Role", Type: "string", Description: "Your role: admin, member, viewer, account (a member of some of its accounts) or platform-admin"},
		{Name: "Plan", Type: "string", Description: "The plan in force"},
		{Name: "Phase", Type: "string", Description: "Where the plan is in its license's lifecycle: Free, Active, Grace or Restricted"},
		{Name: "Seats", Type: "string", Description: "Seats used of the plan's users limit"},
		{Name: "Accounts", Type: "integer", Description: "The organization's accounts you see"},
		{Name: "Renew By", Type: "string", Format: "date-time", Priority: 1, Description: "When the license in force expires (UTC)"},
		{Name: "Usage", Type: "string", Priority: 1, Description: "What the organization uses of its plan's limits"},
		{Name: "Ready", Type: "string", Priority: 1, Description: "Whether orgplane has provisioned the organization"},
		{Name: "Age", Type: "string", Description: "Time since the organization was created"},
	},
	cells: func(obj runtime.Object) []any {
		o := obj.(*myv1.Organization)
		renew := ""
		if o.Status.RenewBy != nil {
			renew = o.Status.RenewBy.UTC().Format(time.RFC3339)
		}
		return []any{o.Name, o.Spec.DisplayName, o.Status.Role, o.Status.Plan, o.Status.Phase, o.Status.Seats,
			int64(o.Status.Accounts), renew, o.Status.Usage, o.Status.Ready, age(o.CreationTimestamp)}
	},
}

var accounts = &kind{
	resource: "accounts", kindName: myv1.AccountKind, singular: "account", shortNames: []string{"myaccount", "myaccounts"},
	newObj: func() runtime.Object { return &myv1.Account{} },
	items: func(v viewer, s *snapshot) []item {
		views := v.accounts(s)
		out := make([]item, 0, len(views))
		for _, a := range views {
			out = append(out, item{obj: a, meta: &a.ObjectMeta, fields: accountFields(a)})
		}
		return out
	},
	org:        func(name string) string { org, _, _ := strings.Cut(name, "."); return org },
	fieldNames: keysOf(accountFields(&myv1.Account{})),
	list: func(items []item, lm metav1.ListMeta) runtime.Object {
		out := &myv1.AccountList{TypeMeta: metav1.TypeMeta{APIVersion: myv1.GroupVersion.String(), Kind: "AccountList"},
			ListMeta: lm, Items: make([]myv1.Account, 0, len(items))}
		for _, it := range items {
			out.Items = append(out.Items, *it.obj.(*myv1.Account))
		}
		return out
	},
	columns: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: "<organization>.<account>"},
		{Name: myv1.OrganizationKind, Type: "string", Description: "The organization the account belongs to"},
		{Name: "Display Name", Type: "string", Description: "The account's human name"},
		{Name: "Workspace", Type: "string", Description: "The account's workspace namespace"},
		{Name: "Role", Type: "string", Description: "Your role in the workspace"},
		{Name: "Quota", Type: "string", Priority: 1, Description: "What the workspace uses of its quota"},
		{Name: "Ready", Type: "string", Priority: 1, Description: "Whether orgplane has provisioned the account"},
		{Name: "Age", Type: "string", Description: "Time since the account was created"},
	},
	cells: func(obj runtime.Object) []any {
		a := obj.(*myv1.Account)
		return []any{a.Name, a.Status.Organization, a.Spec.DisplayName, a.Status.Workspace, a.Status.Role,
			a.Status.Quota, a.Status.Ready, age(a.CreationTimestamp)}
	},
}

func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// predicate is a list's or watch's selectors: they narrow what the caller
// may see, never widen it.
type predicate struct {
	labels labels.Selector
	fields fields.Selector
}

func (p predicate) matches(it item) bool {
	return (p.labels == nil || p.labels.Matches(labels.Set(it.meta.Labels))) &&
		(p.fields == nil || p.fields.Matches(it.fields))
}

// fieldSelectorError says which fields a kind's views can be selected by.
func fieldSelectorError(k *kind, label string) error {
	return fmt.Errorf("field label %q is not supported for %s.%s: use one of %s", label, k.resource,
		myv1.GroupVersion.Group, strings.Join(k.fieldNames, ", "))
}
